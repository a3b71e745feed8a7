#!/usr/bin/env node
// Builds @polaris/sdk as customers install it: ES2022 JavaScript with .d.ts files (tsc, one file
// per module), a package.json whose exports point at them, and the README's section on the client.
//
// The workspace's own package.json exports the TypeScript source, as every workspace of the repo
// does (the demo and the tests run it through tsx); the one written here is what gets published:
// `npm run build -w @polaris/sdk && npm publish sdk/dist`.
//
// Usage: node sdk/build.mjs [--out-dir <dir>]   (default: sdk/dist)
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf('--out-dir');
const outDir = path.resolve(flag >= 0 && process.argv[flag + 1] ? process.argv[flag + 1] : path.join(here, 'dist'));

rmSync(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(here, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });

const source = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
const manifest = {
  name: source.name,
  version: source.version,
  description: source.description,
  license: source.license,
  type: 'module',
  engines: source.engines,
  sideEffects: false,
  main: './index.js',
  types: './index.d.ts',
  exports: { '.': { types: './index.d.ts', default: './index.js' } },
};
writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

// The package's README is the repository README's section on the client, so there is one text to
// keep true; it ends before the section's note on the repository layout ("Why a top-level …").
const readme = readFileSync(path.join(here, '..', 'README.md'), 'utf8').split('\n');
const start = readme.findIndex((line) => line.startsWith('### TypeScript client (@polaris/sdk)'));
if (start < 0) throw new Error('README.md has no "### TypeScript client (@polaris/sdk)" section');
let inCode = false;
const end = readme.findIndex((line, i) => {
  if (line.startsWith('```')) inCode = !inCode;
  return i > start && !inCode && (/^#{1,3} /.test(line) || line.startsWith('**Why a top-level'));
});
const section = readme.slice(start, end < 0 ? undefined : end).map((line) => line.replace(/^###(#*) /, '#$1 '));
writeFileSync(path.join(outDir, 'README.md'), `${section.join('\n').trim()}\n`);
console.log(`@polaris/sdk built into ${path.relative(process.cwd(), outDir) || '.'}`);
