import { describe, expect, it } from 'vitest';
import { ALL_PARTITIONS, identityHash, type IdentityHashScope } from '@polaris/clickhouse';
import { eventIdentityKey, keyPartition } from '@polaris/shared/contracts';
import { createLogger } from '@polaris/shared/service';
import { eventually } from '@polaris/shared/testing';
import { dedupWindow } from './dedup-window';
import { PartitionFilters, type IdentityFilterSource } from './partition-filters';

const logger = createLogger('test', 'silent');
const NOW = Date.UTC(2026, 5, 20);
const screened = (id: string, partitions = 4) => {
  const key = eventIdentityKey('org', 'src', id);
  return { key, hash: identityHash('org', 'src', id), home: keyPartition(key, partitions) };
};
/** Ids whose home partition under 4 partitions is `p`. */
const idsOn = (p: number, n: number, prefix: string) => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (screened(`${prefix}-${i}`).home === p) out.push(`${prefix}-${i}`);
  return out;
};

/** A source over stored rows (partition label, id); `gate` holds the read until released. */
function source(stored: Array<{ label: number; id: string }>, opts: { gate?: Promise<void> } = {}) {
  const scopes: IdentityHashScope[] = [];
  const src: IdentityFilterSource = {
    partitionCount: async () => 4,
    countHashes: async () => new Map(),
    readHashes: async (scope, onRow) => {
      scopes.push(scope);
      await opts.gate;
      for (const r of stored) {
        if (r.label !== ALL_PARTITIONS && !scope.partitions.includes(r.label)) continue;
        const h = identityHash('org', 'src', r.id);
        onRow(r.label, h.high, h.low);
      }
      return stored.length;
    },
    countOtherLayouts: async () => 0,
  };
  return { src, scopes };
}

const sinceDay = '2026-05-13';
const built = (filters: PartitionFilters, partition: number) =>
  eventually(async () => (filters.mustProbe(partition, sinceDay, []) ? true : undefined), `the filter of partition ${partition}`, 5_000, 10);

describe('PartitionFilters', () => {

  it('probes everything until the filter is built, then only what the filter may hold', async () => {
    const [storedId, freshId] = idsOn(1, 2, 'a') as [string, string];
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { src } = source([{ label: 1, id: storedId }], { gate });
    const filters = new PartitionFilters(src, dedupWindow(37), logger, { refreshMs: 3_600_000, now: () => NOW });
    filters.assigned([1]);
    expect(filters.mustProbe(1, sinceDay, [screened(storedId), screened(freshId)])).toBeUndefined();
    // Inserted while the rebuild runs: replayed into the filter when it is ready.
    const [during] = idsOn(1, 1, 'during') as [string];
    filters.adding(1, [screened(during).hash]);
    release();
    await built(filters, 1);
    expect(filters.mustProbe(1, sinceDay, [screened(storedId), screened(during), screened(freshId)])).toEqual([true, true, false]);
    filters.stop();
  });

  it('probes an event read away from its home partition, and a batch reaching before the filter', async () => {
    const [onTwo] = idsOn(2, 1, 'b') as [string];
    const { src } = source([]);
    const filters = new PartitionFilters(src, dedupWindow(37), logger, { refreshMs: 3_600_000, now: () => NOW });
    filters.assigned([1]);
    await built(filters, 1);
    expect(filters.mustProbe(1, sinceDay, [screened(onTwo)])).toEqual([true]);
    expect(filters.mustProbe(1, '2026-01-01', [screened(onTwo)])).toBeUndefined();
    filters.stop();
  });

  it('puts rows of unknown partition into every filter, and forgets everything on a new assignment', async () => {
    const [legacy] = idsOn(3, 1, 'c') as [string];
    const { src, scopes } = source([{ label: ALL_PARTITIONS, id: legacy }]);
    const filters = new PartitionFilters(src, dedupWindow(37), logger, { refreshMs: 3_600_000, now: () => NOW });
    filters.assigned([0, 3]);
    await built(filters, 3);
    expect(filters.mustProbe(3, sinceDay, [screened(legacy)])).toEqual([true]);
    expect(filters.stats().map((s) => s.identities)).toEqual([1, 1]);
    expect(scopes[0]).toEqual({ sinceDay: '2026-05-12', partitions: [0, 3], partitionCount: 4 });
    filters.assigned([3]);
    expect(filters.mustProbe(3, sinceDay, [])).toBeUndefined();
    filters.stop();
  });
});
