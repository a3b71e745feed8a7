import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { z } from 'zod';
import { clickhouseConfigSchema, createClickHouseReader, readSettings, type ClickHouseReadClient } from './client';
import { insertEventsRaw } from './events-raw/events-raw.queries';
import type { MeterUsageQuery } from './meter-usage/meter-usage.params';
import { meterUsageReader } from './meter-usage/meter-usage.reader';
import { eventsRawRowOf } from './meter-usage/meter-usage.fixtures';
import { selectRows } from './named-query';
import { testClickHouseConnection, throwawayDatabase, type ThrowawayDatabase } from './testing/throwaway-database';

// Issue 13: usage reads ran with the server's defaults (no time or row bound, writable). On the
// real ClickHouse of the local stack (18.16): the read client refuses writes, and a read over a
// limit fails with a code that tells the caller to narrow the query, never as an internal error.

const ns = randomUUID();
const t0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const SUBJECTS = 30;
/** A COUNT meter version every event carries, as the sink stamps it. */
const V = '7';

const q = (overrides: Partial<MeterUsageQuery> = {}): MeterUsageQuery => ({
  namespace: ns, meterVersionId: V, aggregation: 'COUNT', fromMs: t0, toMs: t0 + 3_600_000, windowSize: 'none', subjects: [], groupBySubject: true, ...overrides,
});

describe('the ClickHouse read client', () => {
  let db: ThrowawayDatabase;
  let reads: ClickHouseReadClient;

  /** A read client on the test's database, with these limits. */
  const readerWith = (env: Record<string, string>): ClickHouseReadClient =>
    createClickHouseReader(clickhouseConfigSchema.parse({ ...process.env, CLICKHOUSE_DATABASE: db.database, ...env }));

  beforeAll(async () => {
    db = await throwawayDatabase();
    // One event per subject, counted by meter version V (the views fill the rollups on insert).
    const meters = [{ versionId: V, valid: true, value: '0', uniqueKey: '', dimensions: [] }];
    await insertEventsRaw(
      db.client,
      Array.from({ length: SUBJECTS }, (_, i) => eventsRawRowOf({ namespace: ns, id: String(i), source: 'it', subject: `s${i}`, timeMs: t0 + i, revision: '1', meters })),
    );
    reads = readerWith({ CLICKHOUSE_READ_MAX_RESULT_ROWS: '10', CLICKHOUSE_READ_MAX_EXECUTION_TIME_S: '1' });
  });
  afterAll(async () => {
    await reads?.close();
    await db?.drop();
  });

  it('answers a query within the limits', async () => {
    const res = await meterUsageReader(reads).query(q({ subjects: ['s1', 's2'] }));
    expect(res.rows.map((r) => [r.subject, r.value])).toEqual([['s1', '1'], ['s2', '1']]);
  });

  it('refuses a query whose answer exceeds the row cap: invalid_argument query_result_too_large, telling to narrow it', async () => {
    const err = await meterUsageReader(reads).query(q()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'PolarisError', kind: 'invalid_argument', code: 'query_result_too_large' });
    expect((err as Error).message).toMatch(/more than 10 rows.*narrow/i);
  });

  it('stops a query at max_execution_time: invalid_argument query_timeout', async () => {
    const slow = { query: 'SELECT count() AS n FROM system.numbers WHERE number < 100000000000' };
    await expect(selectRows(reads, 'test.slow', slow, z.object({ n: z.string() }))).rejects.toMatchObject({ kind: 'invalid_argument', code: 'query_timeout' });
  });

  it('refuses a write on the read settings: DDL through the read client, INSERT and insert() with its settings', async () => {
    await expect(reads.query({ query: 'DROP TABLE events_raw' })).rejects.toThrow(/^Code: 164\b.*readonly/);
    await expect(reads.query({ query: 'CREATE TABLE written ENGINE = Memory AS SELECT 1 AS a' })).rejects.toThrow(/^Code: 164\b.*readonly/);
    // query() can only send statements that end in FORMAT; an INSERT goes by command() or
    // insert(), which the read client does not offer: a client with the same settings shows the
    // server refusing them all the same.
    const limits = { maxExecutionTimeS: 10, maxResultRows: 10 };
    const withReadSettings = createClient({ ...testClickHouseConnection(), database: db.database, clickhouse_settings: readSettings(limits), log: { level: ClickHouseLogLevel.OFF } });
    try {
      const insert = `INSERT INTO events_raw (namespace, id, source, type, subject, time, time_ms, data, ingested_at, ingest_seq) VALUES ('${ns}', 'w', 'it', 'tokens', 'x', now(), 0, '{}', now(), 1)`;
      await expect(withReadSettings.command({ query: insert })).rejects.toThrow(/^Code: 164\b.*readonly/);
      await expect(withReadSettings.insert({ table: 'events_raw', values: [{ namespace: ns, id: 'w2' }], format: 'JSONEachRow' })).rejects.toThrow(/^Code: 164\b.*readonly/);
    } finally {
      await withReadSettings.close();
    }
    const stored = await db.client.query({ query: `SELECT count() AS n FROM events_raw WHERE namespace = '${ns}'`, format: 'JSONEachRow' });
    expect(await stored.json()).toEqual([{ n: String(SUBJECTS) }]);
    expect(await (await db.client.query({ query: 'EXISTS TABLE written', format: 'JSONEachRow' })).json()).toEqual([{ result: 0 }]);
  });

  it('streams a large answer within the cap, checking each row', async () => {
    const big = readerWith({ CLICKHOUSE_READ_MAX_RESULT_ROWS: '200000' });
    try {
      const rows = await selectRows(big, 'test.numbers', { query: 'SELECT toString(number) AS n FROM system.numbers LIMIT 150000', settings: { max_block_size: '1000' } }, z.object({ n: z.string() }));
      expect(rows).toHaveLength(150_000);
      expect(rows.at(-1)).toEqual({ n: '149999' });
      // Over the cap once the server has already sent blocks: still refused, not cut short.
      await expect(
        selectRows(big, 'test.numbers', { query: 'SELECT toString(number) AS n FROM system.numbers LIMIT 250000', settings: { max_block_size: '1000' } }, z.object({ n: z.string() })),
      ).rejects.toMatchObject({ code: 'query_result_too_large' });
    } finally {
      await big.close();
    }
  });
});
