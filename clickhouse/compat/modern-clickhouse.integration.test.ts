import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { toClickHouseDateTime } from '../src/date-time';
import type { EventIdentity, EventsRawRow as EventRow } from '../src/events-raw/events-raw.schema';
import { eventsRaw, usage as usageQuery } from '../src/index';
import { APPLIED_MIGRATIONS_SQL, CLICKHOUSE_MIGRATIONS_DIR, readMigrationFiles, SCHEMA_MIGRATIONS_DDL } from '../src/migrate/migration-runner';
import { splitStatements } from '../src/migrate/sql-statements';
import { insertSql } from '../src/named-query';
import { canonicalDecimal, type UsageQuery, type UsageWindow as WindowSize } from '../src/usage/usage.query';
import { runOnChdb, runOnServer, type CompatPlan, type CompatResult, type Row } from './compat-plan';

// Our real DDL and generated SQL, run unchanged on the local ClickHouse (18.16, what CI has) and
// on a current engine (chdb-core), and required to give the same answers on both.

const CLICKHOUSE_URL = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:58123';

const ns = randomUUID();
const otherNs = randomUUID();
const t0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const hostileSubject = "o'hara\\";
const hostileId = "it's \\'odd\\";

function row(id: string, timeMs: number, subject: string, data: Record<string, unknown>, over: Partial<EventRow> = {}): EventRow {
  return {
    namespace: ns, id, source: 'compat', type: 'tokens', subject, time: toClickHouseDateTime(timeMs), time_ms: timeMs,
    data: JSON.stringify(data), ingested_at: toClickHouseDateTime(timeMs), ingest_seq: String(timeMs), ...over,
  };
}

const rows: EventRow[] = [
  row('a', t0, 'acme', { n: 1.5 }), //                           first ms of the range
  row('b', t0 + 999, 'acme', { n: 2 }),
  row('c', t0 + MINUTE + 1, 'acme', { n: 0.000000001 }), //       JSON 1e-9: smallest exact value
  row('d', t0 + HOUR + 1, 'globex', { n: 10 }),
  row('e', t0 + HOUR + 2, 'globex', { n: 'ten' }), //            a string: invalid
  row('f', t0 + HOUR + 3, 'globex', {}), //                      missing: invalid
  row('g', t0 + DAY + 5, 'initech', { n: 2.5e-7 }), //           subject not asked for
  row('h', t0 + DAY + 6, 'acme', { n: -2.25 }),
  row('i', t0 + DAY + 7, 'acme', { n: 1.2345678901 }), //        10 fractional digits: not exact, invalid
  row('j', t0 + DAY + 8, 'globex', { n: 1e21 }), //              JSON 1e+21: 22 integer digits, invalid
  row('k', t0 + DAY + 9, 'globex', {}, { data: '{"n":12345678901234567890.123456789}' }), // largest kind: exact
  row(hostileId, t0 + DAY + 10, hostileSubject, { n: 4 }),
  row('l', t0 + 2 * DAY, 'acme', { n: 100 }), //                 exactly `to`: excluded
  row('m', t0 - 1, 'acme', { n: 100 }), //                       1 ms before `from`: excluded
  row('o', t0 + 5, 'acme', { n: 7 }, { type: 'other.type' }),
  row('p', t0 + 5, 'acme', { n: 1000 }, { namespace: otherNs }),
  // 11 × (1e20 - 1): a sum past what 18.16 can print, reported as out of range on both.
  ...Array.from({ length: 11 }, (_, i) => row(`huge${i}`, t0 + i, 'acme', {}, { type: 'huge', data: '{"n":99999999999999999999}' })),
];
const redelivered = rows[0] as EventRow; // an exact redelivery (same offset): FINAL counts it once

/** What the sink-worker sends (eventsRaw.insert), as the SQL text @clickhouse/client posts. */
const jsonEachRowInsert = (batch: EventRow[]) => insertSql(eventsRaw.insertStatement(batch));

const probe: EventIdentity[] = [
  { namespace: ns, source: 'compat', id: 'a' },
  { namespace: ns, source: 'compat', id: hostileId },
  { namespace: ns, source: 'compat', id: 'zz' }, //   not stored
  { namespace: otherNs, source: 'compat', id: 'b' }, // b is stored, but in ns, not here
];
const probeSql = eventsRaw.findExistingStatements(probe).map((s) => s.query);

const subjects = ['acme', 'globex', hostileSubject];
const usage = (windowSize: WindowSize, valueProperty: string | undefined, groupBySubject: boolean): UsageQuery => ({
  namespace: ns, eventType: 'tokens', fromMs: t0, toMs: t0 + 2 * DAY, windowSize, subjects, groupBySubject,
  ...(valueProperty === undefined ? {} : { valueProperty }),
});
const usageChecks = [
  ...(['none', 'minute', 'hour', 'day'] as const).flatMap((w) =>
    [undefined, 'n'].flatMap((v) =>
      [true, false].map((g) => ({ name: `usage ${w} ${v ? 'SUM' : 'COUNT'}${g ? ' by subject' : ''}`, sql: usageQuery.statement(usage(w, v, g)).query })),
    ),
  ),
  { name: 'usage SUM out of range', sql: usageQuery.statement({ ...usage('none', 'n', false), eventType: 'huge' }).query },
];

const migrations = readMigrationFiles(CLICKHOUSE_MIGRATIONS_DIR);
const plan: CompatPlan = {
  database: `compat_${randomBytes(6).toString('hex')}`,
  statements: [
    SCHEMA_MIGRATIONS_DDL,
    ...migrations.flatMap((m) => splitStatements(m.sql)),
    `INSERT INTO schema_migrations FORMAT JSONEachRow\n${migrations
      .map((m) => JSON.stringify({ version: m.version, name: m.name, checksum: m.checksum, applied_at: '2026-03-01 10:00:00' }))
      .join('\n')}`,
    jsonEachRowInsert(rows),
    jsonEachRowInsert([redelivered]),
  ],
  checks: [
    { name: 'applied migrations', sql: APPLIED_MIGRATIONS_SQL, expect_rows: migrations.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })) },
    { name: 'stored rows', sql: 'SELECT * FROM events_raw FINAL ORDER BY namespace, id' },
    ...probeSql.map((sql, i) => ({ name: `existing probe ${i + 1}`, sql })),
    ...usageChecks,
  ],
};

/**
 * Version-neutral rows. Decimal text goes through canonicalDecimal (18.16 prints trailing zeros).
 * 64-bit integers become strings: 18.16 quotes them in JSON, current ClickHouse does not
 * (output_format_json_quote_64bit_integers is 0 there); our queries return toString(...) instead.
 * Probe rows are a set: it reads without FINAL, so the redelivered copy may show up twice.
 */
const UINT64_COLUMNS = new Set(['time_ms', 'ingest_seq', 'catalog_revision', 'meter_version_ids']);
const asText = (v: unknown): unknown => (Array.isArray(v) ? v.map(String) : String(v));
function normalized(name: string, out: Row[]): Row[] {
  const canon = out.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'value' ? canonicalDecimal(String(v)) : UINT64_COLUMNS.has(k) ? asText(v) : v])),
  );
  if (!name.startsWith('existing probe')) return canon;
  return [...new Set(canon.map((r) => JSON.stringify(r)))].sort().map((r) => JSON.parse(r) as Row);
}

describe('our ClickHouse SQL on 18.16 and on a current ClickHouse (chdb-core)', () => {
  let server: CompatResult;
  let modern: CompatResult;
  const rowsOf = (result: CompatResult, name: string): Row[] => {
    const check = result.checks.find((c) => c.name === name);
    if (!check) throw new Error(`no check ${name}`);
    if (check.error !== undefined) throw new Error(`${name} failed on ClickHouse ${result.version}: ${check.error}`);
    return normalized(name, check.rows ?? []);
  };

  beforeAll(async () => {
    [server, modern] = await Promise.all([runOnServer(plan, CLICKHOUSE_URL), runOnChdb(plan)]);
  });

  it('runs on two different engines', () => {
    expect(server.version).toMatch(/^18\./);
    expect(Number(modern.version.split('.')[0])).toBeGreaterThanOrEqual(25);
  });

  it('applies every migration statement and the sink-worker inserts on both', () => {
    const failures = (result: CompatResult) =>
      result.statements.flatMap((s, i) => (s.error === undefined ? [] : [`${plan.statements[i]?.slice(0, 80)}… → ${s.error}`]));
    expect(failures(server)).toEqual([]);
    expect(failures(modern)).toEqual([]);
  });

  it.each(plan.checks.map((c) => c.name))('%s: same rows on both', (name) => {
    expect(rowsOf(modern, name)).toEqual(rowsOf(server, name));
  });

  it('records the applied migrations (checked by chdb_check.py itself)', () => {
    expect(modern.checks.find((c) => c.name === 'applied migrations')?.match).toBe(true);
  });

  it('stores the rows the sink-worker sent, once each under FINAL', () => {
    const stored = rowsOf(server, 'stored rows');
    expect(stored).toHaveLength(rows.length);
    expect(stored.find((r) => r.id === hostileId)).toMatchObject({ subject: hostileSubject, time: toClickHouseDateTime(t0 + DAY + 10) });
  });

  it('64-bit integers: quoted in JSON by 18.16, bare numbers on current ClickHouse', () => {
    const raw = (result: CompatResult) => result.checks.find((c) => c.name === 'stored rows')?.rows?.find((r) => r.id === 'm')?.time_ms;
    expect(raw(server)).toBe(String(t0 - 1));
    expect(raw(modern)).toBe(t0 - 1);
  });

  it('probe finds exactly the stored identities of this namespace', () => {
    expect(probeSql).toHaveLength(1);
    expect(rowsOf(server, 'existing probe 1')).toEqual([
      { namespace: ns, source: 'compat', id: 'a' },
      { namespace: ns, source: 'compat', id: hostileId },
    ]);
  });

  it('counts and sums exactly, with invalid values counted apart', () => {
    const sec = (ms: number) => Math.floor(ms / 1000);
    expect(rowsOf(server, 'usage none COUNT by subject')).toEqual([
      { window_start: 0, group_subject: 'acme', value: '5', event_count: '5', invalid_value_count: '0' },
      { window_start: 0, group_subject: 'globex', value: '5', event_count: '5', invalid_value_count: '0' },
      { window_start: 0, group_subject: hostileSubject, value: '1', event_count: '1', invalid_value_count: '0' },
    ]);
    expect(rowsOf(server, 'usage none COUNT')).toEqual([{ window_start: 0, group_subject: '', value: '11', event_count: '11', invalid_value_count: '0' }]);
    expect(rowsOf(server, 'usage none SUM by subject')).toEqual([
      { window_start: 0, group_subject: 'acme', value: '1.250000001', event_count: '5', invalid_value_count: '1' },
      { window_start: 0, group_subject: 'globex', value: '12345678901234567900.123456789', event_count: '5', invalid_value_count: '3' },
      { window_start: 0, group_subject: hostileSubject, value: '4', event_count: '1', invalid_value_count: '0' },
    ]);
    expect(rowsOf(server, 'usage day SUM')).toEqual([
      { window_start: sec(Date.UTC(2026, 2, 1)), group_subject: '', value: '13.500000001', event_count: '6', invalid_value_count: '2' },
      { window_start: sec(Date.UTC(2026, 2, 2)), group_subject: '', value: '12345678901234567891.873456789', event_count: '5', invalid_value_count: '2' },
    ]);
    expect(rowsOf(server, 'usage SUM out of range')).toEqual([{ window_start: 0, group_subject: '', value: '', event_count: '11', invalid_value_count: '0' }]);
  });
});
