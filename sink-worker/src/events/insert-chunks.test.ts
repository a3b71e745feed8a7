import { describe, expect, it } from 'vitest';
import { chunkByMonth } from './insert-chunks';

const at = (year: number, month: number) => `${year}-${String(month).padStart(2, '0')}-15 12:00:00`;
const monthsOf = (chunk: string[]) => new Set(chunk.map((t) => t.slice(0, 7))).size;

describe('chunkByMonth', () => {
  it('keeps a batch within the limit as one insert, in order', () => {
    const rows = [at(2026, 1), at(2026, 2), at(2026, 1)];
    expect(chunkByMonth(rows, (r) => r)).toEqual([rows]);
  });

  it('makes no insert for no rows', () => {
    expect(chunkByMonth([], (r: string) => r)).toEqual([]);
  });

  it('cuts a batch spanning 250 months into inserts of at most 100 months, losing nothing', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => at(2000 + Math.floor((i % 250) / 12), ((i % 250) % 12) + 1));
    const chunks = chunkByMonth(rows, (r) => r);
    expect(chunks.map(monthsOf)).toEqual([100, 100, 50]);
    expect(chunks.flat().sort()).toEqual([...rows].sort());
    // A month's rows never straddle two inserts.
    const chunksOfMonth = new Map<string, Set<number>>();
    chunks.forEach((c, i) => c.forEach((t) => chunksOfMonth.set(t.slice(0, 7), (chunksOfMonth.get(t.slice(0, 7)) ?? new Set()).add(i))));
    expect([...chunksOfMonth.values()].every((s) => s.size === 1)).toBe(true);
  });
});
