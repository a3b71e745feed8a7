#!/usr/bin/env node
// Runs the TypeScript CLI in place (dev and CI); images run the bundled scripts/dist/cli.js instead.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
