import { strict as assert } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { eventually } from './eventually';

describe('eventually', () => {
  it('retries "not yet" (undefined, or an error of the system) until a value comes', async () => {
    let calls = 0;
    const value = await eventually(async () => {
      calls++;
      if (calls === 1) throw new Error('ECONNREFUSED');
      return calls < 3 ? undefined : 'ready';
    }, 'a value', 5_000, 1);
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('fails at once on a failed vitest expect inside the probe, instead of retrying it away', async () => {
    let calls = 0;
    const failing = eventually(async () => {
      calls++;
      expect(calls).toBe(99);
      return true;
    }, 'an assertion', 5_000, 1);
    await expect(failing).rejects.toThrow(/expected 1 to be 99/);
    expect(calls).toBe(1);
  });

  it('fails at once on a node:assert failure too', async () => {
    await expect(eventually(async () => assert.equal(1, 2), 'an assertion', 5_000, 1)).rejects.toThrow(/1 !== 2|Expected values/);
  });

  it('names what it waited for, and the last error, on timeout', async () => {
    await expect(eventually(async () => Promise.reject(new Error('still down')), 'the broker', 20, 1)).rejects.toThrow(
      /waiting for the broker \(last error: Error: still down\)/,
    );
  });
});
