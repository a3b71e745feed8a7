import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { processState, readPidFile, writePidFile } from './pid-file';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'polaris-pid-file-'));

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
