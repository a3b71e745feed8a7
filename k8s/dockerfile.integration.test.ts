// Offline checks of the root Dockerfile (no Docker engine here): it installs every workspace,
// ships every bundle the compose file and the manifests run, and runs as a numeric non-root user.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIGRATE, SERVICES } from './deploy-contract';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions per stage (index 0 = first FROM), continuation lines joined, comments dropped. */
function stages(dockerfile: string): Instruction[][] {
  const logical = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const result: Instruction[][] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

const dockerfile = stages(read('Dockerfile'));
const runtime = dockerfile.at(-1) ?? [];
const all = dockerfile.flat();
const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
const bundles = [...SERVICES, MIGRATE].map((d) => {
  const script = d.command.find((a) => a.endsWith('.js'));
  if (!script) throw new Error(`${d.name}: command has no script`);
  return script;
});

describe('Dockerfile', () => {
  it('copies every workspace manifest before npm ci (npm ci fails on a missing one)', () => {
    const copies = all.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    for (const ws of workspaces) {
      expect(copies, ws).toContain(`${ws}/package.json ${ws}/`);
    }
  });

  it('builds on Node.js 24 LTS, the runtime of the local stack and CI (Node 20 is past end of life)', () => {
    // The ARG comes before the first FROM, so it is read from the text, not from a stage.
    expect(read('Dockerfile')).toMatch(/^ARG NODE_IMAGE=node:24(\.[\d.]+)?-/m);
  });

  it('installs production dependencies only into the runtime image', () => {
    expect(all.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    const fromRuntime = runtime.find((i) => i.keyword === 'FROM')?.args ?? '';
    expect(fromRuntime).toMatch(/NODE_IMAGE|node:24/);
    expect(runtime.filter((i) => i.keyword === 'RUN'), 'nothing is installed in the runtime stage itself').toEqual([]);
  });

  it('ships every bundle that compose and Kubernetes run, and the migrations', () => {
    const copied = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    for (const bundle of bundles) {
      const dist = path.posix.dirname(bundle);
      expect(copied.some((args) => args.includes(`/app/${dist} ${dist}`)), dist).toBe(true);
    }
    for (const dir of ['postgres/migrations', 'clickhouse/migrations']) {
      expect(copied, dir).toContain(`${dir} ${dir}`);
    }
  });

  it('runs as a numeric non-root user with NODE_ENV=production', () => {
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
    // Numeric so that Kubernetes' runAsNonRoot can verify it.
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(runtime.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args))).toBe(true);
  });

  // As PID 1 a process gets no default signal handling (a SIGTERM nothing handles is dropped) and
  // must reap orphans. tini does both and forwards signals to node; k8s and compose keep it by
  // setting the process as args/command, never replacing the entrypoint (first-deploy test).
  it('runs every process under tini, copied from a build stage (nothing is installed at runtime)', () => {
    const entrypoint = runtime.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)?.args ?? '';
    expect(JSON.parse(entrypoint || '[]')).toEqual(['/usr/bin/tini', '--']);
    expect(runtime.some((i) => i.keyword === 'COPY' && /^--from=\S+ \S*tini\S* \/usr\/bin\/tini$/.test(i.args)), 'tini is copied in').toBe(true);
  });

  it('handles SIGTERM from the first line of every entry point it ships', () => {
    for (const d of [...SERVICES, MIGRATE]) {
      const workspace = d.command.find((a) => a.endsWith('.js'))?.split('/')[0] ?? '';
      const source = read(`${workspace}/src/main.ts`);
      const firstImport = /^import\s+[^;]+;/m.exec(source)?.[0];
      expect(firstImport, `${workspace}/src/main.ts`).toBe("import '@polaris/shared/signals';");
    }
  });

  it('builds every bundle it ships with scripts/build.mjs', () => {
    const build = read('scripts/build.mjs');
    for (const bundle of bundles) expect(build, bundle).toContain(`outfile: '${bundle}'`);
  });

  it('keeps host installs and build output out of the context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', 'proto/gen', '.stack']));
  });
});
