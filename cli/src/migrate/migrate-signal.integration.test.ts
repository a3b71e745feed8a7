import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@polaris/shared/testing';

// Issue 13: `polaris migrate` (the Job, and the services' init containers with --wait) ignored
// SIGTERM: as PID 1 of a container a signal nothing handles is dropped, so a stopped Job or pod
// hung until its grace period ended in SIGKILL. The CLI now handles it from its first line.

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const PROMPTLY_MS = 3_000;

/** A TCP server that accepts and never answers: every store migrate talks to hangs there. */
async function blackhole(): Promise<{ address: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `polaris migrate …` with every store on the black hole, as an operator runs it. */
function hangingMigrate(hole: string, args: string[], wrap: string[] = []): ResultPromise {
  const env = {
    DATABASE_URL: `postgres://polaris:polaris@${hole}/polaris`,
    CLICKHOUSE_URL: `http://${hole}`,
    KAFKA_BROKERS: hole,
  };
  const [file = process.execPath, ...rest] = [...wrap, process.execPath, '--import', 'tsx', main, 'migrate', ...args];
  return execa(file, rest, { env, reject: false });
}

/** Whether this machine lets an unprivileged process start a PID namespace (user namespaces on). */
const canUnshare = spawnSync('unshare', ['--user', '--map-root-user', '--pid', '--fork', 'true']).status === 0;

describe('polaris migrate and SIGTERM', () => {
  let hole: Awaited<ReturnType<typeof blackhole>>;
  beforeAll(async () => {
    hole = await blackhole();
  });
  afterAll(() => hole.close());

  it.each([[[] as string[]], [['--wait']]])('migrate %j exits promptly with 143 and says why', async (args) => {
    const before = hole.connections();
    const cli = hangingMigrate(hole.address, args);
    // Under way: it has reached a store, which will never answer.
    await eventually(async () => (hole.connections() > before ? true : undefined), 'migrate to reach a store', 30_000, 50);
    const sent = Date.now();
    cli.kill('SIGTERM');
    const result = await cli;
    expect(Date.now() - sent).toBeLessThan(PROMPTLY_MS);
    expect(result.exitCode).toBe(143);
    expect(result.stderr).toMatch(/SIGTERM received, stopping/);
  });

  // The container case: the CLI as PID 1 of its own PID namespace, signalled from outside it, as
  // the container runtime does. The kernel drops a signal PID 1 has no handler for.
  it.runIf(canUnshare)('exits promptly on SIGTERM as PID 1 of a PID namespace', async () => {
    const before = hole.connections();
    const wrapper = hangingMigrate(hole.address, [], ['unshare', '--user', '--map-root-user', '--pid', '--fork']);
    await eventually(async () => (hole.connections() > before ? true : undefined), 'migrate to reach a store', 30_000, 50);
    // unshare forks the CLI; that child is PID 1 inside, an ordinary pid outside.
    const children = readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    expect(children).toHaveLength(1);
    const sent = Date.now();
    process.kill(children[0] ?? 0, 'SIGTERM');
    const result = await Promise.race([wrapper, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), PROMPTLY_MS * 3))]);
    if (result === 'hung') wrapper.kill('SIGKILL');
    expect(result, 'still running: SIGTERM was ignored').not.toBe('hung');
    expect(Date.now() - sent).toBeLessThan(PROMPTLY_MS);
    expect(result === 'hung' ? undefined : result.stderr).toMatch(/SIGTERM received, stopping/);
  });
});
