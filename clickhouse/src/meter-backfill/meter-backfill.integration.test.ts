import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEventsRaw } from '../events-raw/events-raw.queries';
import type { EventsRawRow } from '../events-raw/events-raw.schema';
import { toClickHouseDateTime } from '../date-time';
import { queryMeterUsage } from '../meter-usage/meter-usage.query';
import { throwawayDatabase, type ThrowawayDatabase } from '../testing/throwaway-database';
import { meterBackfillStore, type MeterBackfillStore } from './meter-backfill.store';
import type { StoredEvent } from './meter-backfill.schema';

const ns = randomUUID();
const t0 = Date.UTC(2026, 2, 1, 10);

function row(id: string, timeMs: number, over: Partial<EventsRawRow> = {}): EventsRawRow {
  return {
    namespace: ns, id, source: 'svc', type: 'llm.completion', subject: 'acme', time: toClickHouseDateTime(timeMs), time_ms: timeMs,
    data: `{"tokens":${id.length}}`, ingested_at: toClickHouseDateTime(timeMs), ingest_seq: '1', ...over,
  };
}

describe('meterBackfill on ClickHouse 18.16', () => {
  let db: ThrowawayDatabase;
  let store: MeterBackfillStore;
  const scope = { namespace: ns, eventType: 'llm.completion', belowRevision: '5' };

  beforeAll(async () => {
    db = await throwawayDatabase();
    store = meterBackfillStore(db.client);
    await insertEventsRaw(db.client, [
      row('a', t0), //                                                    stored before meters: revision 0
      row('b', t0 + 1, { catalog_revision: '4' }),
      row('c', t0 + 1, { source: 'svc-2', catalog_revision: '4' }), //  same ms: ordered by source, then id
      row('d', t0 + 1, { source: 'svc-2', catalog_revision: '4' }),
      row('e', t0 + 2_000, { catalog_revision: '5' }), //                  counted live: not the backfill's
      row('f', t0 + 3_000, { type: 'other' }),
      row('g', t0 + 3_000, { namespace: randomUUID() }),
      row("it's\\", t0 + 4_000, { subject: "o'hara" }),
    ]);
    await insertEventsRaw(db.client, [row('a', t0)]); // an exact redelivery: one event under FINAL
  });
  afterAll(() => db?.drop());

  const ids = (events: StoredEvent[]) => events.map((e) => e.id);

  it('counts and reads the events below the revision, once each, in (time_ms, source, id) order', async () => {
    expect(await store.countEvents(scope)).toBe(5);
    const all = await store.readEvents({ ...scope, limit: 100 });
    expect(ids(all)).toEqual(['a', 'b', 'c', 'd', "it's\\"]);
    expect(all[0]).toEqual({ id: 'a', source: 'svc', subject: 'acme', time_ms: t0, data: '{"tokens":1}' });
    expect(all[4]).toMatchObject({ subject: "o'hara", time_ms: t0 + 4_000 });
  });

  it('pages with the last event of each page as the cursor, through ties on the same millisecond', async () => {
    const seen: StoredEvent[] = [];
    let after: StoredEvent | undefined;
    for (;;) {
      const page = await store.readEvents({ ...scope, limit: 2, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      seen.push(...page);
      after = page.at(-1);
    }
    expect(ids(seen)).toEqual(['a', 'b', 'c', 'd', "it's\\"]);
  });

  it('limits to [fromMs, toMs) to the millisecond', async () => {
    expect(await store.countEvents({ ...scope, fromMs: t0 + 1, toMs: t0 + 4_000 })).toBe(3);
    expect(ids(await store.readEvents({ ...scope, fromMs: t0 + 1, toMs: t0 + 4_001, limit: 10 }))).toEqual(['b', 'c', 'd', "it's\\"]);
  });

  it('writes values that reach the rollups under their run', async () => {
    const events = await store.readEvents({ ...scope, limit: 100 });
    await store.insertValues(
      events.map((e, i) => ({
        namespace: ns, meter_version_id: '9', backfill_run: '77', subject: e.subject, time: toClickHouseDateTime(e.time_ms), time_ms: e.time_ms,
        event_key: `${e.source}\n${e.id}`, value: `${i}.5`, unique_key: '', dimensions: [], valid: i === 4 ? 0 : 1,
      })),
    );
    const usage = await queryMeterUsage(db.client, {
      namespace: ns, meterVersionId: '9', aggregation: 'SUM', fromMs: t0, toMs: t0 + 60_000, windowSize: 'none',
      segments: [{ backfillRunId: '77', fromMs: Date.UTC(2026, 2, 1), toMs: Date.UTC(2026, 2, 2) }],
    });
    expect(usage.rows).toEqual([{ windowStartMs: t0, windowEndMs: t0 + 60_000, subject: '', dimensions: {}, value: '8', eventCount: '5', invalidCount: '1' }]);
  });
});
