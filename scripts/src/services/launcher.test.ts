import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../stack/ports';
import { startServices } from './launcher';

// A stand-in for a service bundle: answers /readyz on OPS_PORT, and on SIGTERM exits with
// EXIT_ON_TERM; with START_FAILS it dies at once, as a service with a bad config does.
const fakeService = `
const http = require('node:http');
if (process.env.START_FAILS) { console.error('cannot start: bad config'); process.exit(2); }
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.OPS_PORT), '127.0.0.1');
process.on('SIGTERM', () => { console.log('shutting down'); process.exit(Number(process.env.EXIT_ON_TERM ?? 0)); });
`;

function fakeRepo(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'polaris-launcher-'));
  mkdirSync(path.join(root, 'collector', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'collector', 'dist', 'main.js'), fakeService);
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
