import { describe, expect, it } from 'vitest';
import { pollUntil } from './poll-until';

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
