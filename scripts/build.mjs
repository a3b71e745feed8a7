#!/usr/bin/env node
// Bundles every deployable into one ESM file for the image: `<svc>/dist/main.js` for the four
// services and `cli/dist/polaris.js` for the operator CLI (`migrate` in containers).
//
// node_modules stay external (the image ships production node_modules), but the workspace packages
// @polaris/* are bundled: they export TypeScript sources that plain `node` cannot load.
//
// Usage: node scripts/build.mjs [target...]   (targets: collector sink-worker rating-worker gateway cli)
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const targets = [
  { name: 'collector', entry: 'collector/src/main.ts', outfile: 'collector/dist/main.js' },
  { name: 'sink-worker', entry: 'sink-worker/src/main.ts', outfile: 'sink-worker/dist/main.js' },
  { name: 'rating-worker', entry: 'rating-worker/src/main.ts', outfile: 'rating-worker/dist/main.js' },
  { name: 'gateway', entry: 'gateway/src/main.ts', outfile: 'gateway/dist/main.js' },
  // Two levels below the repo root, as the services' bundles: the migrations folders resolve from there.
  { name: 'cli', entry: 'cli/src/main.ts', outfile: 'cli/dist/polaris.js' },
];

// ESM output has no `require`; CommonJS dependencies that esbuild inlines (and a few that call
// require() lazily) need one, so every bundle creates it from its own URL.
const banner = [
  "import { createRequire as __polarisCreateRequire } from 'node:module';",
  'const require = __polarisCreateRequire(import.meta.url);',
].join('\n');

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

function selectTargets(argv) {
  if (argv.length === 0) return targets;
  const unknown = argv.filter((name) => !targets.some((t) => t.name === name));
  if (unknown.length > 0) {
    fail(`unknown target(s) ${unknown.join(', ')}; known: ${targets.map((t) => t.name).join(', ')}`);
  }
  return targets.filter((t) => argv.includes(t.name));
}

// `packages: 'external'` marks every bare import external before esbuild's own resolver could
// follow the workspace symlink, so @polaris/* is resolved here, with Node's ESM resolution (it reads
// the package's "exports"), into the real source path, which esbuild then bundles.
const workspacePackages = {
  name: 'polaris-workspaces',
  setup(build) {
    build.onResolve({ filter: /^@polaris\// }, (args) => {
      let resolved;
      try {
        resolved = import.meta.resolve(args.path);
      } catch (error) {
        return { errors: [{ text: `cannot resolve workspace package ${args.path}: ${error.message}` }] };
      }
      return { path: fileURLToPath(resolved) };
    });
  },
};

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

// The runtime image installs production dependencies only (`npm ci --omit=dev`). A bundle that
// imports a devDependency, or a package npm did not hoist to the root node_modules (the bundle sits
// in <svc>/dist and would never look inside another workspace's node_modules), builds fine here and
// crashes in the container, so both are build errors.
function productionDependencies() {
  const rootPkg = readJson(path.join(root, 'package.json'));
  const deps = new Set(Object.keys(rootPkg.dependencies ?? {}));
  for (const ws of rootPkg.workspaces ?? []) {
    const pkg = readJson(path.join(root, ws, 'package.json'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) deps.add(dep);
  }
  return deps;
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const builtins = new Set(builtinModules);

function externalProblems(metafile, outfile, prodDeps) {
  const problems = [];
  const seen = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      if (!imp.external) continue;
      if (imp.path.startsWith('node:') || builtins.has(imp.path)) continue;
      const name = packageName(imp.path);
      if (seen.has(name)) continue;
      seen.add(name);
      if (!prodDeps.has(name)) {
        problems.push(`${name}: imported but not in any workspace's "dependencies" (npm ci --omit=dev would drop it)`);
      } else if (!existsSync(path.join(root, 'node_modules', name, 'package.json'))) {
        problems.push(`${name}: not hoisted to node_modules/ (${outfile} cannot resolve it at runtime)`);
      }
    }
  }
  return problems;
}

async function buildTarget(target, prodDeps) {
  const entry = path.join(root, target.entry);
  const outfile = path.join(root, target.outfile);
  rmSync(path.dirname(outfile), { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    packages: 'external',
    plugins: [workspacePackages],
    sourcemap: true,
    keepNames: true,
    banner: { js: banner },
    metafile: true,
    logLevel: 'warning',
  });
  const problems = externalProblems(result.metafile, target.outfile, prodDeps);
  if (problems.length > 0) {
    throw new Error(`${target.name}:\n  ${problems.join('\n  ')}`);
  }
  const bytes = result.metafile.outputs[path.relative(process.cwd(), outfile)]?.bytes;
  console.log(`build: ${target.entry} -> ${target.outfile}${bytes ? ` (${(bytes / 1024).toFixed(0)} KiB)` : ''}`);
}

const selected = selectTargets(process.argv.slice(2));
const missing = selected.filter((t) => !existsSync(path.join(root, t.entry)));
if (missing.length > 0) {
  fail(`missing entry point(s): ${missing.map((t) => t.entry).join(', ')}`);
}

const prodDeps = productionDependencies();
const results = await Promise.allSettled(selected.map((t) => buildTarget(t, prodDeps)));
const failures = results.filter((r) => r.status === 'rejected');
if (failures.length > 0) {
  // esbuild has already printed its own diagnostics for compile errors.
  for (const f of failures) console.error(`build: ${f.reason.message}`);
  fail(`${failures.length} of ${selected.length} target(s) failed`);
}
