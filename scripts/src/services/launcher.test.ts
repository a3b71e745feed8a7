import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../stack/ports';
import { DEFAULT_PORTS, localSpecs, startServices, type SystemPorts } from './launcher';

// A stand-in for a service bundle: answers /readyz on OPS_PORT, and on SIGTERM exits with
// EXIT_ON_TERM; with START_FAILS it dies at once, as a service with a bad config does.
const fakeService = `
const http = require('node:http');
if (process.env.START_FAILS) { console.error('cannot start: bad config'); process.exit(2); }
if (process.env.EXPECT_ADMIN_PORT !== undefined && process.env.ADMIN_PORT !== process.env.EXPECT_ADMIN_PORT) {
  console.error('ADMIN_PORT=' + process.env.ADMIN_PORT); process.exit(4);
}
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.OPS_PORT), '127.0.0.1');
process.on('SIGTERM', () => { console.log('shutting down'); process.exit(Number(process.env.EXIT_ON_TERM ?? 0)); });
`;

function fakeRepo(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'polaris-launcher-'));
  for (const name of ['collector', 'rating-worker']) {
    mkdirSync(path.join(root, name, 'dist'), { recursive: true });
    writeFileSync(path.join(root, name, 'dist', 'main.js'), fakeService);
  }
  return root;
}

async function start(env: Record<string, string>) {
  const repoRoot = fakeRepo();
  const logDir = path.join(repoRoot, 'logs');
  return startServices({ runFrom: 'bundle', repoRoot, logDir, specs: [{ name: 'collector', opsPort: await freePort(), env }], readyDeadlineMs: 10_000 });
}

describe('startServices', () => {
  it('stops quietly a service that exits 0 on SIGTERM', async () => {
    const system = await start({});
    await expect(system.stop()).resolves.toBeUndefined();
  });

  it('rejects on a non-zero exit after SIGTERM, naming the service, its exit and its last log lines', async () => {
    const system = await start({ EXIT_ON_TERM: '3' });
    await expect(system.stop()).rejects.toThrow(/collector \(pid \d+\) exited with code 3 after SIGTERM\n {2}log .*collector\.log \(last line\):\n {4}shutting down/);
  });

  it('refuses an ops port that something else already answers on, rather than probe it', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const repoRoot = fakeRepo();
    try {
      await expect(
        startServices({ runFrom: 'bundle', repoRoot, logDir: path.join(repoRoot, 'logs'), specs: [{ name: 'collector', opsPort: address.port, env: {} }] }),
      ).rejects.toThrow(new RegExp(`collector: ops port ${address.port} is already in use by `));
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('names a service that dies while starting, with its log', async () => {
    await expect(start({ START_FAILS: '1' })).rejects.toThrow(/collector \(pid \d+, \/readyz on ops port \d+\) exited with code 2\n.*\n {4}cannot start: bad config/);
  });
});

describe('the rating-worker as launched', () => {
  it('serves no queue board unless its spec names an admin port (private copies never clash on the default)', async () => {
    const repoRoot = fakeRepo();
    const launch = async (env: Record<string, string>) =>
      startServices({ runFrom: 'bundle', repoRoot, logDir: path.join(repoRoot, 'logs'), specs: [{ name: 'rating-worker', opsPort: await freePort(), env }], readyDeadlineMs: 10_000 });
    await (await launch({ EXPECT_ADMIN_PORT: '0' })).stop();
    await (await launch({ EXPECT_ADMIN_PORT: '19999', ADMIN_PORT: '19999' })).stop();
  });

  it('reads usage from the sink-worker of its own system, and serves the board on the given port', () => {
    const ports: SystemPorts = { ...DEFAULT_PORTS, usageGrpc: 15052, ratingAdmin: 19095 };
    const rating = localSpecs(ports, {}).find((s) => s.name === 'rating-worker');
    expect(rating?.env).toMatchObject({ USAGE_GRPC_ADDR: '127.0.0.1:15052', ADMIN_PORT: '19095' });
    const { ratingAdmin: _none, ...withoutBoard } = ports;
    expect(localSpecs(withoutBoard, {}).find((s) => s.name === 'rating-worker')?.env.ADMIN_PORT).toBe('0');
    expect(DEFAULT_PORTS.ratingAdmin).toBe(9095);
  });
});

describe('the collector as launched', () => {
  it("counts rate limits in the local stack's Redis unless told otherwise", () => {
    const collector = (shared: Record<string, string>) => localSpecs(DEFAULT_PORTS, shared).find((s) => s.name === 'collector')?.env;
    expect(collector({})?.REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(collector({ REDIS_URL: 'redis://127.0.0.1:1' })?.REDIS_URL).toBe('redis://127.0.0.1:1');
  });
});
