import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { eventIdentityKey, encodeEventMessage, keyPartition } from '@polaris/shared/contracts';
import type { EventIdentity, EventsRawRow, EventsRawWriter } from '@polaris/clickhouse';
import { createLogger } from '@polaris/shared/service';
import { eventually } from '@polaris/shared/testing';
import { dedupWindow } from './dedup-window';
import { FlushBuffer } from './flush-buffer';
import { FlushStore } from './flush-store';
import { PartitionFilters, type IdentityFilterSource } from './partition-filters';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const PARTITIONS = 4;
const key = (r: EventIdentity) => eventIdentityKey(r.namespace, r.source, r.id);
/** An id whose home partition is 0, so that the filter of partition 0 answers for it. */
const idOnZero = (prefix: string) => {
  for (let i = 0; ; i++) if (keyPartition(eventIdentityKey(ns, 'svc', `${prefix}-${i}`), PARTITIONS) === 0) return `${prefix}-${i}`;
};
const NOW = Date.now();
const message = (offset: number, id: string) => ({ offset: String(offset), value: encodeEventMessage(ns, { id, source: 'svc', type: 't', subject: 's', timeMs: NOW, data: {} }, NOW) });

describe('FlushStore with a filter still being rebuilt', () => {
  it('hands what it inserts to the filter being built, so that a rebuild that read ClickHouse before the insert still holds it', async () => {
    const rows: EventsRawRow[] = [];
    const writer: EventsRawWriter = {
      insert: async (batch) => void rows.push(...batch),
      findExisting: async () => new Set(),
      findStored: async (ids) => new Map(ids.flatMap((i): Array<[string, string]> => rows.filter((r) => key(r) === key(i)).map((r) => [key(i), r.payload_fingerprint ?? '0']))),
    };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The rebuild reads ClickHouse while it is still empty, and answers only later.
    const source: IdentityFilterSource = {
      partitionCount: async () => PARTITIONS,
      countHashes: async () => new Map(),
      readHashes: async () => (await gate, 0),
      countOtherLayouts: async () => 0,
    };
    const filters = new PartitionFilters(source, dedupWindow(37), createLogger('test', 'silent'), { refreshMs: 86_400_000 });
    filters.assigned([0]);
    const screened = new Counter({ name: 'screened', help: 'h', labelNames: ['filter'], registers: [new Registry()] });
    const store = new FlushStore({ writer, filters, dedup: dedupWindow(37), meters: undefined, screened });
    const flushOf = (...messages: ReturnType<typeof message>[]) => {
      const buffer = new FlushBuffer({ maxEvents: 100, maxBytes: 1 << 20, maxMs: 0 });
      buffer.add({ topic: 'events', partition: 0, messages }, 1, {});
      return buffer.take().partitions;
    };

    const a = idOnZero('a');
    expect((await store.store(flushOf(message(0, a)), async () => undefined)).inserted).toBe(1);
    release();
    await eventually(async () => (filters.stats().length === 1 ? true : undefined), 'the filter of partition 0 to be built', 5_000, 10);
    const again = await store.store(flushOf(message(1, a), message(2, idOnZero('b'))), async () => undefined);
    expect(again).toMatchObject({ inserted: 1, known: 1 });
    expect(rows.map((r) => r.id)).toEqual([a, idOnZero('b')]);
    filters.stop();
  });
});
