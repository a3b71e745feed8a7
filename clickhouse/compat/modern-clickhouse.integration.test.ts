import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { toClickHouseDateTime } from '../src/date-time';
import type { EventIdentity, EventsRawRow as EventRow } from '../src/events-raw/events-raw.schema';
import { eventIdentities, eventsRaw } from '../src/index';
import { APPLIED_MIGRATIONS_SQL, CLICKHOUSE_MIGRATIONS_DIR, readMigrationFiles, SCHEMA_MIGRATIONS_DDL } from '../src/migrate/migration-runner';
import { splitStatements } from '../src/migrate/sql-statements';
import { insertSql } from '../src/named-query';
import { runOnChdb, runOnServer, type CompatPlan, type CompatResult, type Row } from './compat-plan';

// Our real DDL and generated SQL, run unchanged on the local ClickHouse (18.16, what CI has) and
// on a current engine (chdb-core), and required to give the same answers on both: migrations,
// the sink's insert and its probe here; meter usage in meters-modern-clickhouse.integration.test.ts.

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
  row('a', t0, 'acme', { n: 1.5 }),
  row('b', t0 + 999, 'acme', { n: 2 }),
  row('c', t0 + MINUTE + 1, 'acme', { n: 0.000000001 }),
  row('d', t0 + HOUR + 1, 'globex', { n: 'ten' }),
  row('e', t0 + HOUR + 2, 'globex', {}),
  row('k', t0 + DAY + 9, 'globex', {}, { data: '{"n":12345678901234567890.123456789}' }), // data kept as sent
  row(hostileId, t0 + DAY + 10, hostileSubject, { n: 4 }),
  row('m', t0 - 1, 'acme', { n: 100 }),
  row('o', t0 + 5, 'acme', { n: 7 }, { type: 'other.type' }),
  row('p', t0 + 5, 'acme', { n: 1000 }, { namespace: otherNs }),
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
/** The sink's windowed probe of event_identities_v2 (filled by its view from the same inserts). */
const storedProbeSql = eventIdentities.findStoredStatements(probe, '2026-01-01').map((s) => s.query);

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
    ...storedProbeSql.map((sql, i) => ({ name: `stored identities probe ${i + 1}`, sql })),
    { name: 'stored identities', sql: 'SELECT namespace, source, id, toString(ingested_day) AS day, toString(payload_fingerprint) AS fp FROM event_identities_v2 FINAL ORDER BY namespace, id' },
  ],
};

/**
 * Version-neutral rows. 64-bit integers become strings: 18.16 quotes them in JSON, current ClickHouse does not
 * (output_format_json_quote_64bit_integers is 0 there); our queries return toString(...) instead.
 * Probe rows are a set: it reads without FINAL, so the redelivered copy may show up twice.
 */
const UINT64_COLUMNS = new Set(['time_ms', 'ingest_seq', 'catalog_revision', 'meter_version_ids', 'payload_fingerprint']);
const asText = (v: unknown): unknown => (Array.isArray(v) ? v.map(String) : String(v));
function normalized(name: string, out: Row[]): Row[] {
  const canon = out.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, UINT64_COLUMNS.has(k) ? asText(v) : v])),
  );
  if (!name.startsWith('existing probe') && !name.startsWith('stored identities probe')) return canon;
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

  it('the windowed probe of event_identities_v2 finds exactly the stored identities of this namespace, as the probe of events_raw does', () => {
    expect(storedProbeSql).toHaveLength(1);
    const ids = (name: string) => rowsOf(server, name).map((r) => r.id).sort();
    expect(ids('stored identities probe 1')).toEqual(ids('existing probe 1'));
    expect(ids('stored identities probe 1').length).toBeGreaterThan(0);
  });

  it('probe finds exactly the stored identities of this namespace', () => {
    expect(probeSql).toHaveLength(1);
    expect(rowsOf(server, 'existing probe 1')).toEqual([
      { namespace: ns, source: 'compat', id: 'a' },
      { namespace: ns, source: 'compat', id: hostileId },
    ]);
  });
});
