import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a customer gets it: built by sdk/build.mjs into a project's node_modules, then
// imported by plain `node` (no TypeScript loader) and compiled against by `tsc` with Node's ESM
// resolution. Not a unit test (it runs the build and child processes), and it touches no store.

const run = promisify(execFile);
const sdkDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.join(sdkDir, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

let project: string;
let packageDir: string;

/** Runs in the customer's project, with real fetch against a tiny HTTP server standing in for the collector. */
const CONSUMER_JS = `
import http from 'node:http';
import { PolarisClient, BufferFullError, InvalidEventError } from '@polaris/sdk';

const bodies = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    bodies.push({ url: req.url, contentType: req.headers['content-type'], auth: req.headers.authorization, raw: body, events: JSON.parse(body) });
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":1}');
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const client = new PolarisClient({ url: 'http://127.0.0.1:' + server.address().port, apiKey: 'pol_x', maxBufferedEvents: 2 });
const id = client.track({ type: 'llm.tokens', subject: 'acme', data: { tokens: 12345678901234567890n } });
client.track({ type: 'llm.tokens', subject: 'acme' });
let full = false;
try { client.track({ type: 'llm.tokens', subject: 'acme' }); } catch (err) { full = err instanceof BufferFullError; }
let invalid;
try { client.track({ type: 'llm.tokens' }); } catch (err) { invalid = err instanceof InvalidEventError && err.field; }
await client.close();
server.close();
console.log(JSON.stringify({ id, full, invalid, stats: client.stats(), bodies }));
`;

/** Compiled with tsc against the .d.ts files: the @ts-expect-error lines fail the build if the types were `any`. */
const CONSUMER_TS = `
import { PolarisClient, type FlushResult } from '@polaris/sdk';

interface Usage {
  'llm.tokens': { model: string; tokens: number };
}
const client = new PolarisClient<Usage>({ url: 'http://127.0.0.1:1', apiKey: 'k', onFull: 'drop' });
const id: string | undefined = client.track({ type: 'llm.tokens', subject: 'acme', data: { model: 'large', tokens: 1 } });
// @ts-expect-error: not an event type of the catalog
client.track({ type: 'llm.token', subject: 'acme' });
// @ts-expect-error: batchSize is a number
new PolarisClient({ url: 'http://x', apiKey: 'k', batchSize: '10' });
export const flushed: Promise<FlushResult> = client.flush();
export { id };
`;

beforeAll(async () => {
  project = await mkdtemp(path.join(tmpdir(), 'polaris-sdk-consumer-'));
  packageDir = path.join(project, 'node_modules', '@polaris', 'sdk');
  await run(process.execPath, [path.join(sdkDir, 'build.mjs'), '--out-dir', packageDir], { cwd: repoRoot });
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'customer-app', private: true, type: 'module' }));
}, 120_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the built package', () => {
  it('holds JavaScript, declarations, its manifest and README, and no tests', async () => {
    const files = await readdir(packageDir);
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'polaris-client.js', 'polaris-client.d.ts', 'package.json', 'README.md']));
    expect(files.filter((f) => f.includes('test'))).toEqual([]);
    // The README's section on the client, whole, without the note on the repository's layout.
    const readme = await readFile(path.join(packageDir, 'README.md'), 'utf8');
    expect(readme).toMatch(/^# TypeScript client \(@polaris\/sdk\)\n/);
    expect(readme).toContain('- **The buffer is bounded**');
    expect(readme).not.toContain('Why a top-level');
  });

  it('is imported by plain node from a project of its own, and sends events with the global fetch', async () => {
    await writeFile(path.join(project, 'consumer.mjs'), CONSUMER_JS);
    const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: project, timeout: 30_000 });
    const out = JSON.parse(stdout) as { id: string; full: boolean; invalid: string; stats: Record<string, number>; bodies: Array<Record<string, unknown>> };
    expect(out.full).toBe(true);
    expect(out.invalid).toBe('subject');
    expect(out.stats).toEqual({ buffered: 0, sent: 2, retried: 0, dropped: 0, rejected: 0 });
    expect(out.bodies).toEqual([
      {
        url: '/v1/events',
        contentType: 'application/cloudevents-batch+json',
        auth: 'Bearer pol_x',
        raw: expect.stringContaining('"data":{"tokens":12345678901234567890}'),
        events: [expect.objectContaining({ id: out.id, specversion: '1.0', type: 'llm.tokens' }), expect.objectContaining({ type: 'llm.tokens' })],
      },
    ]);
  });

  it('type-checks a customer project with Node ESM resolution against its .d.ts files', async () => {
    await writeFile(path.join(project, 'consumer.ts'), CONSUMER_TS);
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        // A Node customer's setup: @types/node (for fetch and AbortSignal), nothing of this repo.
        typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['consumer.ts'],
    };
    await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project })).resolves.toBeDefined();
  }, 60_000);
});
