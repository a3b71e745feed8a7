import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeLogTail, tailLines } from './log-tail';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'polaris-log-tail-'));

describe('tailLines', () => {
  it('returns the last lines without the trailing empty one', () => {
    const file = path.join(tmp(), 'x.log');
    writeFileSync(file, 'a\nb\nc\n');
    expect(tailLines(file, 2)).toEqual(['b', 'c']);
    expect(tailLines(path.join(tmp(), 'missing.log'), 2)).toEqual([]);
  });
});

describe('describeLogTail', () => {
  it('indents the last lines under the file name, or says there are none', () => {
    const file = path.join(tmp(), 'x.log');
    writeFileSync(file, 'a\nb\nc\n');
    expect(describeLogTail(file, 2)).toBe(`\n  log ${file} (last 2 lines):\n    b\n    c`);
    const missing = path.join(tmp(), 'missing.log');
    expect(describeLogTail(missing, 2)).toBe(`\n  log ${missing}: (empty or missing)`);
  });
});
