import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertEventsRaw } from '../events-raw/events-raw.queries';
import { throwawayDatabase, type ThrowawayDatabase } from '../testing/throwaway-database';
import { eventsRawRowOf, expectedMeterUsage, generateEvents, liveContributions, type MeterTestEvent } from './meter-usage.fixtures';
import type { MeterUsageQuery } from './meter-usage.params';
import { meterUsageStatement, queryMeterUsage } from './meter-usage.query';
import { queryMeterUsageRaw } from './meter-usage.raw';

// meterUsage.query on ClickHouse 18.16: every answer equals the one computed in TS from the same
// events (luxon windows, decimal.js), and the raw path's. clickhouse/compat/ runs a selection of
// these statements on a current ClickHouse too.

const ns = randomUUID();
const V = '101';
const OTHER_V = '102';
const HOSTILE = "o'hara\\";
const ny = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toMillis();
const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' }).toMillis();

/** Ranges that hold every zone trap: both New York DST days, a month end, a Kolkata/Kathmandu day. */
const RANGES = [
  [ny('2026-03-07'), ny('2026-03-10')],
  [ny('2026-10-31'), ny('2026-11-03')],
  [utc('2026-02-27'), utc('2026-03-02')],
  [utc('2026-06-14T17:00'), utc('2026-06-15T20:00')],
] as const;

const events: MeterTestEvent[] = generateEvents({ namespace: ns, versionId: V, otherVersionId: OTHER_V, seed: 20260308, ranges: RANGES, perRange: 400, subjects: ['acme', 'globex', HOSTILE] });
// The same version id in another tenant: never in ns's answers.
const foreign = generateEvents({ namespace: randomUUID(), versionId: V, otherVersionId: OTHER_V, seed: 7, ranges: RANGES, perRange: 50, subjects: ['acme'] });

interface Case {
  name: string;
  q: Omit<MeterUsageQuery, 'namespace' | 'meterVersionId' | 'aggregation'>;
  table: string;
}

const CASES: Case[] = [
  { name: 'UTC days over a month end', q: { fromMs: utc('2026-02-27'), toMs: utc('2026-03-02'), windowSize: 'day', timeZone: 'UTC' }, table: 'day' },
  { name: 'UTC months', q: { fromMs: utc('2026-02-01'), toMs: utc('2026-04-01'), windowSize: 'month', timeZone: 'UTC', groupBySubject: true }, table: 'day' },
  { name: 'New York days across spring DST', q: { fromMs: ny('2026-03-07'), toMs: ny('2026-03-10'), windowSize: 'day', timeZone: 'America/New_York', groupBySubject: true }, table: 'hour' },
  { name: 'New York days across autumn DST', q: { fromMs: ny('2026-10-31'), toMs: ny('2026-11-03'), windowSize: 'day', timeZone: 'America/New_York', groupByDimensions: [{ index: 0, name: 'model' }] }, table: 'hour' },
  { name: 'New York hours across autumn DST', q: { fromMs: ny('2026-11-01'), toMs: ny('2026-11-02'), windowSize: 'hour', timeZone: 'America/New_York' }, table: 'hour' },
  { name: 'New York hours across spring DST', q: { fromMs: ny('2026-03-08'), toMs: ny('2026-03-09'), windowSize: 'hour', timeZone: 'America/New_York', groupBySubject: true }, table: 'hour' },
  { name: 'New York months', q: { fromMs: ny('2026-02-01'), toMs: ny('2026-12-01'), windowSize: 'month', timeZone: 'America/New_York' }, table: 'hour' },
  { name: 'Kolkata hours', q: { fromMs: utc('2026-06-14T17:00'), toMs: utc('2026-06-15T20:00'), windowSize: 'hour', timeZone: 'Asia/Kolkata' }, table: 'minute' },
  { name: 'Kolkata days', q: { fromMs: utc('2026-06-14T17:00'), toMs: utc('2026-06-15T20:00'), windowSize: 'day', timeZone: 'Asia/Kolkata', groupBySubject: true }, table: 'minute' },
  { name: 'Kathmandu hours', q: { fromMs: utc('2026-06-14T17:00'), toMs: utc('2026-06-15T20:00'), windowSize: 'hour', timeZone: 'Asia/Kathmandu', groupByDimensions: [{ index: 1, name: 'region' }] }, table: 'minute' },
  { name: 'Kathmandu days', q: { fromMs: utc('2026-06-14T17:00'), toMs: utc('2026-06-15T20:00'), windowSize: 'day', timeZone: 'Asia/Kathmandu' }, table: 'minute' },
  { name: 'minutes', q: { fromMs: utc('2026-06-15T00:00'), toMs: utc('2026-06-15T06:00'), windowSize: 'minute', timeZone: 'Asia/Kolkata', groupBySubject: true }, table: 'minute' },
  { name: 'no windows, partial hours', q: { fromMs: utc('2026-03-07T05:17'), toMs: utc('2026-11-02T03:41'), windowSize: 'none', timeZone: 'UTC', groupBySubject: true }, table: 'minute' },
  {
    name: 'every filter and grouping',
    q: {
      fromMs: utc('2026-01-01'), toMs: utc('2027-01-01'), windowSize: 'month', timeZone: 'Europe/Paris', groupBySubject: true,
      groupByDimensions: [{ index: 1, name: 'region' }, { index: 0, name: 'model' }, { index: 5, name: 'unset' }],
      subjects: ['acme', HOSTILE], dimensionFilters: [{ index: 0, values: ['gpt', ''] }],
    },
    table: 'hour',
  },
];
const AGGREGATIONS = ['SUM', 'COUNT', 'UNIQUE_COUNT', 'MIN', 'MAX', 'AVG', 'LATEST'] as const;

describe('meterUsage.query on ClickHouse 18.16', () => {
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    db = await throwawayDatabase();
    // Several inserts, as the sink makes them, so the rollups hold several parts to merge.
    for (let i = 0; i < events.length; i += 500) await insertEventsRaw(db.client, events.slice(i, i + 500).map((e) => eventsRawRowOf(e)));
    await insertEventsRaw(db.client, foreign.map((e) => eventsRawRowOf(e)));
  });
  afterAll(() => db?.drop());

  describe.each(CASES)('$name', ({ q, table }) => {
    it(`reads meter_usage_per_${table}_v1`, () => {
      expect(meterUsageStatement({ ...q, namespace: ns, meterVersionId: V, aggregation: 'SUM' }).query).toContain(`FROM meter_usage_per_${table}_v1\n`);
    });

    it.each(AGGREGATIONS)('%s: rollups = raw = computed in TS', async (aggregation) => {
      const query: MeterUsageQuery = { ...q, namespace: ns, meterVersionId: V, aggregation };
      const expected = expectedMeterUsage(liveContributions(events), query);
      expect(expected.rows.length).toBeGreaterThan(0);
      expect(await queryMeterUsage(db.client, query)).toEqual(expected);
      expect(await queryMeterUsageRaw(db.client, query)).toEqual(expected);
    });
  });

  it('gives New York a 23-hour day on 2026-03-08 and a 25-hour day on 2026-11-01, as luxon does', async () => {
    const days = async (from: string, to: string) =>
      (await queryMeterUsage(db.client, { namespace: ns, meterVersionId: V, aggregation: 'COUNT', fromMs: ny(from), toMs: ny(to), windowSize: 'day', timeZone: 'America/New_York' })).rows.map((r) => [
        new Date(r.windowStartMs).toISOString(),
        (r.windowEndMs - r.windowStartMs) / 3_600_000,
      ]);
    expect(await days('2026-03-07', '2026-03-10')).toEqual([
      ['2026-03-07T05:00:00.000Z', 24],
      ['2026-03-08T05:00:00.000Z', 23],
      ['2026-03-09T04:00:00.000Z', 24],
    ]);
    expect(await days('2026-10-31', '2026-11-03')).toEqual([
      ['2026-10-31T04:00:00.000Z', 24],
      ['2026-11-01T04:00:00.000Z', 25],
      ['2026-11-02T05:00:00.000Z', 24],
    ]);
  });

  it('starts Kolkata hours at :30 and Kathmandu hours at :15 UTC', async () => {
    const starts = async (timeZone: string) =>
      (await queryMeterUsage(db.client, { namespace: ns, meterVersionId: V, aggregation: 'COUNT', fromMs: utc('2026-06-15T00:00'), toMs: utc('2026-06-15T03:00'), windowSize: 'hour', timeZone })).rows.map((r) =>
        new Date(r.windowStartMs).toISOString().slice(11, 16),
      );
    expect(await starts('Asia/Kolkata')).toEqual(['23:30', '00:30', '01:30', '02:30']);
    expect(await starts('Asia/Kathmandu')).toEqual(['23:15', '00:15', '01:15', '02:15']);
  });

  it('answers nothing for another version, another tenant, or an empty range', async () => {
    const base: MeterUsageQuery = { namespace: ns, meterVersionId: '999', aggregation: 'COUNT', fromMs: utc('2026-01-01'), toMs: utc('2027-01-01'), windowSize: 'none' };
    expect((await queryMeterUsage(db.client, base)).rows).toEqual([]);
    expect((await queryMeterUsage(db.client, { ...base, meterVersionId: V, namespace: randomUUID() })).rows).toEqual([]);
    expect((await queryMeterUsage(db.client, { ...base, meterVersionId: V, fromMs: utc('2025-01-01'), toMs: utc('2025-02-01') })).rows).toEqual([]);
  });

  it('refuses a SUM or AVG reaching 1e21 (18.16 prints such a Decimal128 as garbage), and answers the rest', async () => {
    const huge = randomUUID();
    const t = utc('2026-05-01T10:00');
    // 11 × (1e20 - 1 + 0.999999999): each value fits, their sum does not print on 18.16.
    const values = Array.from({ length: 11 }, (_, i): MeterTestEvent => ({
      namespace: huge, id: `h${i}`, source: 's', subject: i < 6 ? 'a' : 'b', timeMs: t + i, revision: '3',
      meters: [{ versionId: V, valid: true, value: '99999999999999999999.999999999', uniqueKey: `n:${i}`, dimensions: [] }],
    }));
    await insertEventsRaw(db.client, values.map((e) => eventsRawRowOf(e)));
    const q = (aggregation: MeterUsageQuery['aggregation'], groupBySubject = false): MeterUsageQuery => ({ namespace: huge, meterVersionId: V, aggregation, fromMs: t, toMs: t + 60_000, windowSize: 'none', groupBySubject });
    for (const aggregation of ['SUM', 'AVG'] as const) {
      await expect(queryMeterUsage(db.client, q(aggregation)), aggregation).rejects.toMatchObject({ kind: 'invalid_argument', code: 'sum_out_of_range' });
      await expect(queryMeterUsageRaw(db.client, q(aggregation)), aggregation).rejects.toMatchObject({ code: 'sum_out_of_range' });
    }
    for (const aggregation of ['COUNT', 'UNIQUE_COUNT', 'MAX', 'LATEST'] as const) {
      expect((await queryMeterUsage(db.client, q(aggregation))).rows[0]?.value, aggregation).toBe(aggregation === 'COUNT' || aggregation === 'UNIQUE_COUNT' ? '11' : '99999999999999999999.999999999');
    }
    // Grouped by subject, each sum (6 and 5 values) stays under 1e21.
    expect((await queryMeterUsage(db.client, q('SUM', true))).rows.map((r) => r.value)).toEqual(['599999999999999999999.999999994', '499999999999999999999.999999995']);
  });

  it('keeps SQL injection payloads inert in every string param', async () => {
    const base: MeterUsageQuery = { namespace: ns, meterVersionId: V, aggregation: 'COUNT', fromMs: utc('2026-01-01'), toMs: utc('2027-01-01'), windowSize: 'none', groupBySubject: true };
    const payloads = ["' OR '1'='1", "x') OR ('1'='1", "\\' OR 1=1 --", "'; DROP TABLE events_raw; --", `${ns}' OR namespace != '`];
    for (const p of payloads) {
      expect((await queryMeterUsage(db.client, { ...base, namespace: p })).rows, p).toEqual([]);
      expect((await queryMeterUsage(db.client, { ...base, subjects: [p] })).rows, p).toEqual([]);
      expect((await queryMeterUsage(db.client, { ...base, dimensionFilters: [{ index: 0, values: [p] }] })).rows, p).toEqual([]);
      await expect(queryMeterUsage(db.client, { ...base, timeZone: `UTC${p}` }), p).rejects.toMatchObject({ code: 'unknown_time_zone' });
    }
    // A subject that looks like a payload is still just a subject.
    const hostile = await queryMeterUsage(db.client, { ...base, subjects: [HOSTILE] });
    expect(hostile.rows.map((r) => r.subject)).toEqual([HOSTILE]);
    expect(hostile).toEqual(expectedMeterUsage(liveContributions(events), { ...base, subjects: [HOSTILE] }));
    const tables = await db.client.query({ query: `SELECT count() AS n FROM system.tables WHERE database = '${db.database}' AND name = 'events_raw'`, format: 'JSONEachRow' });
    expect(await tables.json()).toEqual([{ n: '1' }]);
  });
});
