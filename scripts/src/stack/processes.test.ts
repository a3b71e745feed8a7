import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil, processState, readPidFile, tailLines, writePidFile } from './processes';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'polaris-processes-'));

describe('pidfiles', () => {
  it('round-trips a pid with its start time and sees the process alive', () => {
    const file = path.join(tmp(), 'run', 'self.pid');
    writePidFile(file, process.pid);
    const record = readPidFile(file);
    expect(record?.pid).toBe(process.pid);
    expect(record && processState(record)).toBe('alive');
  });

  it('treats a reused pid (other start time) and a missing process as dead', () => {
    expect(processState({ pid: process.pid, startTicks: '1' })).toBe('dead');
    expect(processState({ pid: 2 ** 22 + 12345 })).toBe('dead');
  });

  it('ignores missing and garbage pidfiles', () => {
    const dir = tmp();
    expect(readPidFile(path.join(dir, 'none.pid'))).toBeUndefined();
    writeFileSync(path.join(dir, 'bad.pid'), 'not a pid\n');
    expect(readPidFile(path.join(dir, 'bad.pid'))).toBeUndefined();
  });
});

describe('tailLines', () => {
  it('returns the last lines without the trailing empty one', () => {
    const file = path.join(tmp(), 'x.log');
    writeFileSync(file, 'a\nb\nc\n');
    expect(tailLines(file, 2)).toEqual(['b', 'c']);
    expect(tailLines(path.join(tmp(), 'missing.log'), 2)).toEqual([]);
  });
});

describe('pollUntil', () => {
  it('resolves once the check passes', async () => {
    let calls = 0;
    const result = await pollUntil(
      async () => {
        if (++calls < 3) throw new Error('not yet');
      },
      { timeoutMs: 2_000, intervalMs: 5 },
    );
    expect(result).toBeUndefined();
    expect(calls).toBe(3);
  });

  it('gives up at the deadline with the last error, or at once when aborted', async () => {
    const fail = async () => {
      throw new Error('refused');
    };
    expect(await pollUntil(fail, { timeoutMs: 30, intervalMs: 5 })).toMatch(/not ready after .*refused/);
    expect(await pollUntil(fail, { timeoutMs: 5_000, aborted: () => 'exited with code 1' })).toBe('exited with code 1');
  });
});
