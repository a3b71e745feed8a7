import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsRawWriter, toClickHouseDateTime, type EventsRawRow, type EventsRawWriter } from '@polaris/clickhouse';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { eventIdentityKey } from '@polaris/shared/contracts';
import { classifyStoreError, isDataError } from './store-error';
import { storeIsolating } from './store-isolating';

const ns = 'ns-isolating';

function row(i: number, over: Partial<EventsRawRow> = {}): EventsRawRow {
  const t = Date.UTC(2026, 5, 1, 0, 0, 0) + i;
  return {
    namespace: ns, id: `e-${i}`, source: 'it', type: 'api.request', subject: `s-${i % 7}`,
    time: toClickHouseDateTime(t), time_ms: t, data: JSON.stringify({ n: i }), ingested_at: toClickHouseDateTime(t), ingest_seq: String(i),
    ...over,
  };
}

async function stored(db: ThrowawayDatabase): Promise<{ rows: number; ids: number }> {
  const rs = await db.client.query({ query: 'SELECT count() AS rows, uniqExact(namespace, source, id) AS ids FROM events_raw', format: 'JSONEachRow' });
  const [r] = await rs.json<{ rows: string; ids: string }>();
  return { rows: Number(r?.rows), ids: Number(r?.ids) };
}

describe('storeIsolating with the real events_raw insert (ClickHouse refusing rows)', () => {
  let db: ThrowawayDatabase;
  let writer: EventsRawWriter;

  beforeAll(async () => {
    db = await throwawayDatabase();
    writer = eventsRawWriter(db.client);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('stores every good row exactly once and returns exactly the rows ClickHouse refuses, with its error', async () => {
    await db.client.command({ query: 'TRUNCATE TABLE events_raw' });
    const rows = Array.from({ length: 5_000 }, (_, i) => row(i));
    // Lone surrogates: valid JSON, invalid Unicode. 18.16 refuses them (Code 25).
    rows[1_234] = row(1_234, { id: '\ud800' });
    rows[4_321] = row(4_321, { subject: 'x\udfff' + '\ud800' });
    let inserts = 0;
    const started = performance.now();
    const refused = await storeIsolating(rows, (set) => writer.insert([...set]), { isDataError, onAttempt: () => inserts++ });
    const ms = performance.now() - started;
    console.log(`isolating 2 bad rows in 5,000: ${inserts} inserts, ${ms.toFixed(0)} ms`);

    expect(refused.map((r) => r.item.ingest_seq)).toEqual(['1234', '4321']);
    for (const r of refused) expect(classifyStoreError(r.error)).toMatchObject({ kind: 'data', code: 25 });
    expect(await stored(db)).toEqual({ rows: 4_998, ids: 4_998 });
  });

  it('isolates one bad row in a 5,000-row batch in about 2·log2(n) inserts', async () => {
    await db.client.command({ query: 'TRUNCATE TABLE events_raw' });
    const rows = Array.from({ length: 5_000 }, (_, i) => (i === 2_718 ? row(i, { id: 'bad-\ud800' }) : row(i)));
    let inserts = 0;
    const started = performance.now();
    const refused = await storeIsolating(rows, (set) => writer.insert([...set]), { isDataError, onAttempt: () => inserts++ });
    const ms = performance.now() - started;
    console.log(`isolating 1 bad row in 5,000: ${inserts} inserts, ${ms.toFixed(0)} ms`);
    expect(refused.map((r) => r.item.ingest_seq)).toEqual(['2718']);
    expect(inserts).toBeLessThanOrEqual(2 * 13 + 1);
    expect(await stored(db)).toEqual({ rows: 4_999, ids: 4_999 });
  });

  it('a refused insert stores nothing, so the probe of a replay finds only what the halves stored', async () => {
    await db.client.command({ query: 'TRUNCATE TABLE events_raw' });
    const rows = [row(1), row(2, { id: '\ud800' }), row(3)];
    await expect(writer.insert(rows)).rejects.toThrow(/Code: 25/);
    expect(await stored(db)).toEqual({ rows: 0, ids: 0 });
    await storeIsolating(rows, (set) => writer.insert([...set]), { isDataError });
    const found = await writer.findExisting(rows);
    const key = (r: EventsRawRow) => eventIdentityKey(r.namespace, r.source, r.id);
    expect([...found].sort()).toEqual([key(row(1)), key(row(3))].sort());
  });

  it('an outage is thrown, not taken for bad rows', async () => {
    const down = await throwawayDatabase({ migrated: false }); // no database yet: UNKNOWN_DATABASE (81)
    try {
      const downWriter = eventsRawWriter(down.client);
      let inserts = 0;
      const err = await storeIsolating([row(1), row(2, { id: '\ud800' })], (set) => downWriter.insert([...set]), { isDataError, onAttempt: () => inserts++ })
        .then(() => undefined, (e: unknown) => e);
      expect(classifyStoreError(err)).toMatchObject({ kind: 'outage', code: 81 });
      expect(inserts).toBe(1);
    } finally {
      await down.drop();
    }
  });
});
