import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidProcess, readPidFile, writePidFile } from './pid-file';
import { pollUntil } from './poll-until';
import { spawnLogged, type LoggedProcess } from './spawn-logged';
import { stopProcess } from './stop-process';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'polaris-stop-process-'));

/** A node child running `script`, which prints "up" once its SIGTERM handler is in place. */
async function child(script: string, mode: 'attached' | 'detached' = 'attached'): Promise<{ proc: LoggedProcess; log: string }> {
  const log = path.join(tmp(), 'logs', 'child.log');
  const proc = await spawnLogged({ file: process.execPath, args: ['-e', `${script}; console.log('up')`], cwd: os.tmpdir(), output: log }, mode);
  const up = await pollUntil(
    async () => {
      if (!readFileSync(log, 'utf8').includes('up')) throw new Error('not up yet');
    },
    { timeoutMs: 10_000, intervalMs: 20, aborted: proc.exited },
  );
  if (up) throw new Error(`test child: ${up}`);
  return { proc, log };
}

const keepAlive = 'setInterval(() => {}, 1000)';

describe('spawnLogged and stopProcess', () => {
  it('stops a child that exits on SIGTERM, and knows its exit code', async () => {
    const { proc, log } = await child(`${keepAlive}; process.on('SIGTERM', () => { console.log('bye'); process.exit(0); })`);
    expect(await stopProcess(proc, 'SIGTERM', 5_000)).toBe('stopped');
    expect(proc.exitStatus()).toEqual({ code: 0, signal: null });
    expect(readFileSync(log, 'utf8')).toBe('up\nbye\n');
  });

  it('reports a non-zero exit after SIGTERM', async () => {
    const { proc } = await child(`${keepAlive}; process.on('SIGTERM', () => process.exit(3))`);
    expect(await stopProcess(proc, 'SIGTERM', 5_000)).toBe('stopped');
    expect(proc.exited()).toBe('exited with code 3');
  });

  it('SIGKILLs a child that ignores SIGTERM past the grace period', async () => {
    const { proc } = await child(`${keepAlive}; process.on('SIGTERM', () => {})`);
    expect(await stopProcess(proc, 'SIGTERM', 200)).toBe('killed');
    expect(proc.exited()).toBe('exited on SIGKILL');
  });

  it('stops a detached process found again through its pidfile', async () => {
    const { proc } = await child(`${keepAlive}; process.on('SIGINT', () => process.exit(0))`, 'detached');
    const file = path.join(tmp(), 'child.pid');
    writePidFile(file, proc.pid);
    const record = readPidFile(file);
    expect(record?.pid).toBe(proc.pid);
    if (!record) return;
    expect(await stopProcess(pidProcess(record), 'SIGINT', 5_000)).toBe('stopped');
    expect(await pidProcess(record).waitForExit(0)).toBe(true);
  });

  it('refuses to start a missing binary, naming it', async () => {
    await expect(spawnLogged({ file: '/nonexistent/bin', args: [], cwd: os.tmpdir(), output: path.join(tmp(), 'x.log') }, 'attached')).rejects.toThrow(
      /cannot start \/nonexistent\/bin/,
    );
  });
});
