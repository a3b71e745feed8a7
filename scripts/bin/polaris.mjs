#!/usr/bin/env node
// Runs the TypeScript developer CLI in place; the image ships only the operator commands, bundled
// as cli/dist/polaris.js.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
