import { randomBytes, randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventsRaw, meterBackfill, meterUsage } from '../src/index';
import { CLICKHOUSE_MIGRATIONS_DIR, readMigrationFiles } from '../src/migrate/migration-runner';
import { splitStatements } from '../src/migrate/sql-statements';
import { insertSql } from '../src/named-query';
import { backfillRowOf, eventsRawRowOf, expectedMeterUsage, generateEvents, liveContributions, type Contribution } from '../src/meter-usage/meter-usage.fixtures';
import type { MeterUsagePlan, MeterUsageQuery } from '../src/meter-usage/meter-usage.params';
import { meterUsageResult, meterUsageSqlRow } from '../src/meter-usage/meter-usage.rows';
import { canonicalDecimalText } from '../src/decimal-text';
import { runOnChdb, runOnServer, type CompatPlan, type CompatResult, type Row } from './compat-plan';

// Meters on both engines: the migrations' rollups and views fed by the sink's inserts and by a
// backfill, then the meter usage queries (rollup and raw) and the backfill reads, run unchanged
// on the local ClickHouse (18.16) and on a current engine (chdb-core). Each answer must be the
// same on both, and equal the one computed in TS (luxon windows, decimal.js values).

const CLICKHOUSE_URL = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:58123';
const ns = randomUUID();
const V = '301';
const HOSTILE = "o'hara\\";
const ny = (iso: string) => DateTime.fromISO(iso, { zone: 'America/New_York' }).toMillis();
const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' }).toMillis();
const CUT = ny('2026-03-08T12:00'); // hour-aligned in UTC: events before it come from a backfill

const events = generateEvents({
  namespace: ns, versionId: V, otherVersionId: '302', seed: 26, perRange: 150, subjects: ['acme', 'globex', HOSTILE],
  ranges: [[ny('2026-03-07'), ny('2026-03-10')], [ny('2026-10-31'), ny('2026-11-03')], [utc('2026-01-30'), utc('2026-02-02')], [utc('2026-06-14T17:00'), utc('2026-06-15T20:00')]],
});
const backfilled = events.filter((e) => e.timeMs < CUT && e.timeMs >= ny('2026-03-07') && e.meters.length > 0);
const stored = events.filter((e) => !backfilled.includes(e));
function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`fixture: no ${what}`);
  return value;
}
const valueOf = (e: (typeof events)[number]) => must(e.meters.find((m) => m.versionId === V), `value of ${e.id}`);
const copies = stored.filter((_, i) => i % 11 === 0);
const segments = [{ backfillRunId: '5', fromMs: ny('2026-03-07'), toMs: CUT }];
const contributions: Contribution[] = [...liveContributions([...stored, ...copies]), ...backfilled.map((e) => ({ event: e, meter: valueOf(e), run: '5' }))];

const QUERIES: Array<{ name: string; q: Omit<MeterUsageQuery, 'namespace' | 'meterVersionId' | 'aggregation' | 'segments'> }> = [
  { name: 'UTC days', q: { fromMs: utc('2026-01-30'), toMs: utc('2026-02-02'), windowSize: 'day', groupBySubject: true } },
  { name: 'UTC month', q: { fromMs: utc('2026-01-01'), toMs: utc('2026-03-01'), windowSize: 'month' } },
  { name: 'New York spring days', q: { fromMs: ny('2026-03-07'), toMs: ny('2026-03-10'), windowSize: 'day', timeZone: 'America/New_York', groupBySubject: true } },
  { name: 'New York autumn hours', q: { fromMs: ny('2026-11-01'), toMs: ny('2026-11-02'), windowSize: 'hour', timeZone: 'America/New_York', groupByDimensions: [{ index: 0, name: 'model' }] } },
  { name: 'New York autumn days', q: { fromMs: ny('2026-10-31'), toMs: ny('2026-11-03'), windowSize: 'day', timeZone: 'America/New_York' } },
  { name: 'New York months', q: { fromMs: ny('2026-01-01'), toMs: ny('2026-12-01'), windowSize: 'month', timeZone: 'America/New_York', subjects: ['acme', HOSTILE], groupBySubject: true } },
  { name: 'Kolkata hours', q: { fromMs: utc('2026-06-14T17:00'), toMs: utc('2026-06-15T20:00'), windowSize: 'hour', timeZone: 'Asia/Kolkata', dimensionFilters: [{ index: 1, values: ['eu'] }] } },
  { name: 'Kathmandu days', q: { fromMs: utc('2026-06-14T17:00'), toMs: utc('2026-06-15T20:00'), windowSize: 'day', timeZone: 'Asia/Kathmandu', groupByDimensions: [{ index: 1, name: 'region' }] } },
  { name: 'minutes', q: { fromMs: utc('2026-06-15T00:00'), toMs: utc('2026-06-15T02:00'), windowSize: 'minute', timeZone: 'Asia/Kathmandu' } },
];
const AGGREGATIONS = ['SUM', 'COUNT', 'UNIQUE_COUNT', 'MIN', 'MAX', 'AVG', 'LATEST'] as const;

type Check = { name: string; sql: string; plan?: MeterUsagePlan; query?: MeterUsageQuery; raw?: boolean };
const checks: Check[] = QUERIES.flatMap(({ name, q }) =>
  AGGREGATIONS.flatMap((aggregation) => {
    const query: MeterUsageQuery = { ...q, namespace: ns, meterVersionId: V, aggregation, segments };
    const rollup = meterUsage.statement(query);
    const raw = meterUsage.rawStatement(query);
    return [
      { name: `${name} ${aggregation}`, sql: rollup.query, plan: rollup.plan, query },
      { name: `${name} ${aggregation} raw`, sql: raw.query, plan: raw.plan, query, raw: true },
    ];
  }),
);
// 11 × (1e20 - 1e-9): a sum 18.16 cannot print, answered as '' (sum_out_of_range) on both.
const hugeNs = randomUUID();
const huge = Array.from({ length: 11 }, (_, i) => ({
  namespace: hugeNs, id: `h${i}`, source: 's', subject: 'a', timeMs: utc('2026-05-01T10:00') + i, revision: '3',
  meters: [{ versionId: V, valid: true, value: '99999999999999999999.999999999', uniqueKey: '', dimensions: [] }],
}));
const hugeQuery: MeterUsageQuery = { namespace: hugeNs, meterVersionId: V, aggregation: 'SUM', fromMs: utc('2026-05-01T10:00'), toMs: utc('2026-05-01T10:01'), windowSize: 'none' };
checks.push({ name: 'SUM out of range', sql: meterUsage.statement(hugeQuery).query }, { name: 'SUM out of range raw', sql: meterUsage.rawStatement(hugeQuery).query });

const scope = { namespace: ns, eventType: 'llm.completion', belowRevision: '2' };
const cursor = must([...backfilled].sort((a, b) => a.timeMs - b.timeMs)[3], 'fourth backfilled event');
checks.push(
  { name: 'backfill count', sql: meterBackfill.countEventsStatement(scope).query },
  { name: 'backfill page', sql: meterBackfill.readEventsStatement({ ...scope, limit: 20, after: { time_ms: cursor.timeMs, source: cursor.source, id: cursor.id } }).query },
);

const plan: CompatPlan = {
  database: `compat_meters_${randomBytes(6).toString('hex')}`,
  statements: [
    ...readMigrationFiles(CLICKHOUSE_MIGRATIONS_DIR).flatMap((m) => splitStatements(m.sql)),
    insertSql(eventsRaw.insertStatement(stored.map((e) => eventsRawRowOf(e)))),
    insertSql(eventsRaw.insertStatement(backfilled.map((e) => eventsRawRowOf({ ...e, revision: '1', meters: [] })))),
    // Exact redeliveries: FINAL reads them once, the rollups' views saw them twice.
    insertSql(eventsRaw.insertStatement(copies.map((e) => eventsRawRowOf(e)))),
    insertSql(eventsRaw.insertStatement(huge.map((e) => eventsRawRowOf(e)))),
    insertSql(meterBackfill.insertValuesStatement(backfilled.map((e) => backfillRowOf(e, valueOf(e), '5')))),
    insertSql(meterBackfill.insertValuesStatement(backfilled.slice(0, 40).map((e) => backfillRowOf(e, valueOf(e), '4')))), // a run that died
  ],
  checks: checks.map(({ name, sql }) => ({ name, sql })),
};

/** Version-neutral rows: decimal text canonical (18.16 prints trailing zeros). */
const normalized = (rows: Row[]) => rows.map((r) => ({ ...r, ...(typeof r.value === 'string' ? { value: canonicalDecimalText(r.value) } : {}) }));

describe('meters on 18.16 and on a current ClickHouse (chdb-core)', () => {
  let server: CompatResult;
  let modern: CompatResult;
  const rowsOf = (result: CompatResult, name: string): Row[] => {
    const check = result.checks.find((c) => c.name === name);
    if (!check) throw new Error(`no check ${name}`);
    if (check.error !== undefined) throw new Error(`${name} failed on ClickHouse ${result.version}: ${check.error}`);
    return normalized(check.rows ?? []);
  };

  beforeAll(async () => {
    [server, modern] = await Promise.all([runOnServer(plan, CLICKHOUSE_URL), runOnChdb(plan)]);
  }, 180_000);

  it('runs the migrations, the sink inserts and the backfill inserts on both', () => {
    expect(server.version).toMatch(/^18\./);
    expect(Number(modern.version.split('.')[0])).toBeGreaterThanOrEqual(25);
    const failures = (result: CompatResult) => result.statements.flatMap((s, i) => (s.error === undefined ? [] : [`${plan.statements[i]?.slice(0, 80)}… → ${s.error}`]));
    expect(failures(server)).toEqual([]);
    expect(failures(modern)).toEqual([]);
  });

  it.each(checks.filter((c) => c.plan).map((c) => c.name))('%s: same rows on both, and the answer computed in TS', (name) => {
    const check = must(checks.find((c) => c.name === name), name);
    const usagePlan = must(check.plan, `plan of ${name}`);
    const answer = (result: CompatResult) => meterUsageResult(usagePlan, rowsOf(result, name).map((r) => meterUsageSqlRow.parse(r)));
    expect(rowsOf(modern, name)).toEqual(rowsOf(server, name));
    // The raw path reads events_raw: no backfill (it is only in the rollups), each copy once.
    const expected = expectedMeterUsage(check.raw ? liveContributions(stored) : contributions, must(check.query, `query of ${name}`));
    expect(expected.rows.length).toBeGreaterThan(0);
    expect(answer(server)).toEqual(expected);
    expect(answer(modern)).toEqual(expected);
  });

  it.each(['SUM out of range', 'SUM out of range raw'])('%s: a sum past 1e21 is answered as no text on both', (name) => {
    const expected = [{ zone_window: 0, group_subject: '', value: '', events: '11', valid_events: '11' }];
    expect(rowsOf(server, name)).toEqual(expected);
    expect(rowsOf(modern, name)).toEqual(expected);
  });

  it('reads the backfill scope the same on both, 64-bit integers as text', () => {
    expect(rowsOf(server, 'backfill count')).toEqual([{ events: String(backfilled.length) }]);
    expect(rowsOf(modern, 'backfill count')).toEqual(rowsOf(server, 'backfill count'));
    const page = rowsOf(server, 'backfill page');
    expect(page).toHaveLength(20);
    expect(rowsOf(modern, 'backfill page')).toEqual(page);
  });
});
