import { describe, expect, it } from 'vitest';
import { storeIsolating } from './store-isolating';

class DataError extends Error {}
const isDataError = (err: unknown) => err instanceof DataError;

/** A store that refuses any call containing a bad item, like ClickHouse refusing an insert. */
function fakeStore(bad: (n: number) => boolean) {
  const stored: number[] = [];
  const calls: number[][] = [];
  return {
    stored,
    calls,
    store: async (items: readonly number[]) => {
      calls.push([...items]);
      const firstBad = items.find(bad);
      if (firstBad !== undefined) throw new DataError(`bad item ${firstBad}`);
      stored.push(...items);
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('storeIsolating', () => {
  it('stores everything in one call when nothing is refused', async () => {
    const s = fakeStore(() => false);
    expect(await storeIsolating(range(100), s.store, { isDataError })).toEqual([]);
    expect(s.calls).toHaveLength(1);
    expect(s.stored).toEqual(range(100));
  });

  it('makes no call for nothing', async () => {
    const s = fakeStore(() => false);
    expect(await storeIsolating([], s.store, { isDataError })).toEqual([]);
    expect(s.calls).toHaveLength(0);
  });

  it.each([0, 1, 2_499, 2_500, 4_999])('finds the one bad item at %i of 5,000 in at most 2·log2(n)+1 calls, storing the rest once', async (badAt) => {
    const s = fakeStore((n) => n === badAt);
    const refused = await storeIsolating(range(5_000), s.store, { isDataError });
    expect(refused.map((r) => r.item)).toEqual([badAt]);
    expect((refused[0]?.error as Error).message).toBe(`bad item ${badAt}`);
    expect([...s.stored].sort((a, b) => a - b)).toEqual(range(5_000).filter((n) => n !== badAt));
    expect(s.calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(5_000)) + 1);
    expect(s.calls.length).toBeGreaterThanOrEqual(Math.ceil(Math.log2(5_000)) + 1);
  });

  it('finds several bad items, and refuses only items that failed alone', async () => {
    const bad = new Set([3, 4, 17, 63]);
    const s = fakeStore((n) => bad.has(n));
    const refused = await storeIsolating(range(64), s.store, { isDataError });
    expect(refused.map((r) => r.item).sort((a, b) => a - b)).toEqual([3, 4, 17, 63]);
    for (const r of refused) expect(s.calls).toContainEqual([r.item]);
    expect(s.stored.length).toBe(60);
    expect(new Set(s.stored).size).toBe(60);
  });

  it('refuses everything when everything is bad, in 2n-1 calls at most', async () => {
    const s = fakeStore(() => true);
    const refused = await storeIsolating(range(16), s.store, { isDataError });
    expect(refused.map((r) => r.item)).toEqual(range(16));
    expect(s.calls.length).toBeLessThanOrEqual(31);
  });

  it('throws an outage at once, without refusing anything', async () => {
    let calls = 0;
    const outage = new Error('connect ECONNREFUSED');
    const store = async (items: readonly number[]) => {
      calls++;
      if (calls === 1) throw new DataError('bad');
      if (items.length > 0) throw outage;
    };
    await expect(storeIsolating(range(8), store, { isDataError })).rejects.toBe(outage);
    expect(calls).toBe(2);
  });

  it('calls beforeAttempt before every call but the first, and stops when it throws', async () => {
    const s = fakeStore((n) => n === 5);
    let before = 0;
    const lost = new Error('partition lost');
    await expect(
      storeIsolating(range(8), s.store, {
        isDataError,
        beforeAttempt: async () => {
          before++;
          if (before === 3) throw lost;
        },
      }),
    ).rejects.toBe(lost);
    expect(s.calls.length).toBe(3);
  });
});
