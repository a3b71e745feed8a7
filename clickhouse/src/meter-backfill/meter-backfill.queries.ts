import { z } from 'zod';
import { jsonDecimal } from '../decimal-text';
import { checkParams, selectRows, type ClickHouseReader, type ClickHouseWriter, type InsertStatement, type SelectStatement } from '../named-query';
import { sqlDateTime, sqlString, sqlUInt } from '../sql-literal';
import {
  backfillScopeSchema,
  meterValuesBackfillRowSchema,
  readEventsParamsSchema,
  type BackfillCursor,
  type BackfillScope,
  type MeterValuesBackfillRow,
  type ReadEventsParams,
  type StoredEvent,
} from './meter-backfill.schema';

const COUNT = 'meterBackfill.countEvents';
const READ = 'meterBackfill.readEvents';
const INSERT = 'meterBackfill.insertValues';

/** DateTime is seconds in a UInt32: a bound past it (an open end) would wrap around in SQL. */
const DATE_TIME_END_MS = 2 ** 32 * 1000;

/**
 * The scope as conditions on events_raw: whole seconds for partition and index pruning (when the
 * bound is a DateTime at all), then the exact milliseconds.
 */
function scopeWhere(scope: z.output<typeof backfillScopeSchema>): string[] {
  const { fromMs, toMs } = scope;
  return [
    `namespace = ${sqlString(scope.namespace)}`,
    `type = ${sqlString(scope.eventType)}`,
    `catalog_revision < ${sqlUInt(BigInt(scope.belowRevision))}`,
    ...(fromMs === undefined ? [] : [...(fromMs < DATE_TIME_END_MS ? [`time >= ${sqlDateTime(fromMs)}`] : []), `time_ms >= ${sqlUInt(fromMs)}`]),
    ...(toMs === undefined ? [] : [...(toMs < DATE_TIME_END_MS ? [`time <= ${sqlDateTime(toMs)}`] : []), `time_ms < ${sqlUInt(toMs)}`]),
  ];
}

/** Strictly after the cursor in (time_ms, source, id) order, spelled out rather than as a tuple comparison. */
function afterCursor(c: BackfillCursor): string[] {
  const t = sqlUInt(c.time_ms);
  const s = sqlString(c.source);
  return [...(c.time_ms < DATE_TIME_END_MS ? [`time >= ${sqlDateTime(c.time_ms)}`] : []), `(time_ms > ${t} OR (time_ms = ${t} AND (source > ${s} OR (source = ${s} AND id > ${sqlString(c.id)}))))`];
}

/** meterBackfill.countEvents as a value. */
export function countEventsStatement(scope: BackfillScope): SelectStatement {
  const s = checkParams(COUNT, backfillScopeSchema, scope);
  return { query: `SELECT toString(count()) AS events FROM events_raw FINAL\nWHERE ${scopeWhere(s).join('\n  AND ')}` };
}

/**
 * meterBackfill.countEvents: how many stored events a backfill of this scope reads, for its
 * progress. Reads FINAL, as readEvents does, so an exact redelivery counts once.
 */
export async function countBackfillEvents(reader: ClickHouseReader, scope: BackfillScope): Promise<number> {
  const rows = await selectRows(reader, COUNT, countEventsStatement(scope), z.object({ events: z.string().regex(/^\d+$/).transform(Number) }));
  return rows[0]?.events ?? 0;
}

/** meterBackfill.readEvents as a value. */
export function readEventsStatement(params: ReadEventsParams): SelectStatement {
  const p = checkParams(READ, readEventsParamsSchema, params);
  const where = [...scopeWhere(p), ...(p.after ? afterCursor(p.after) : [])];
  return {
    query: [
      // event_time_ms, not time_ms: an alias would shadow the column in WHERE and ORDER BY.
      'SELECT id, source, subject, toString(time_ms) AS event_time_ms, data',
      'FROM events_raw FINAL',
      `WHERE ${where.join('\n  AND ')}`,
      'ORDER BY time_ms, source, id',
      `LIMIT ${sqlUInt(p.limit)}`,
    ].join('\n'),
  };
}

const storedEventRow = z
  .object({ id: z.string(), source: z.string(), subject: z.string(), event_time_ms: z.string().regex(/^\d+$/), data: z.string() })
  .transform((r): StoredEvent => ({ id: r.id, source: r.source, subject: r.subject, time_ms: Number(r.event_time_ms), data: r.data }));

/**
 * meterBackfill.readEvents: up to `limit` stored events of a backfill scope, in (time_ms, source,
 * id) order, strictly after `after` (pass the last event of the previous page); fewer than
 * `limit`, or none, at the end. Contract:
 * - Reads events_raw FINAL: one copy per exact redelivery, as the live path counted it once.
 * - The order is stable and the key unique per stored event (the sink stores an identity once),
 *   so paging visits every event of the scope exactly once, even while the sink inserts: new
 *   rows carry a revision ≥ R_V and are outside the scope.
 */
export async function readBackfillEvents(reader: ClickHouseReader, params: ReadEventsParams): Promise<StoredEvent[]> {
  return selectRows(reader, READ, readEventsStatement(params), storedEventRow);
}

/** LATEST's tie-break after time_ms, as the views on events_raw build it: concat(source, '\n', id). */
export function meterEventKey(source: string, id: string): string {
  return `${source}\n${id}`;
}

/** A row as it is sent: the value as a raw JSON number, which is how 18.16 reads a Decimal. */
export type MeterValuesBackfillInsertRow = Omit<MeterValuesBackfillRow, 'value'> & { value: ReturnType<typeof jsonDecimal> };

/** meterBackfill.insertValues as a value: the checked rows and where they go. */
export function insertValuesStatement(rows: readonly MeterValuesBackfillRow[]): InsertStatement<MeterValuesBackfillInsertRow> {
  const checked = checkParams(INSERT, z.array(meterValuesBackfillRowSchema), rows);
  return { table: 'meter_values_backfill_v1', values: checked.map((r) => ({ ...r, value: jsonDecimal(r.value) })) };
}

/**
 * meterBackfill.insertValues: the rows as one INSERT into meter_values_backfill_v1, a Null table
 * whose views add them to the three rollups under their run id; nothing else keeps them. One
 * block: the views see all of it or none. The same rows inserted twice count twice under that
 * run, so a run whose insert answer was lost must not write the page again: it is superseded by
 * a new run, and queries read only the runs of completed segments.
 */
export async function insertBackfillValues(writer: ClickHouseWriter, rows: readonly MeterValuesBackfillRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { table, values } = insertValuesStatement(rows);
  await writer.insert({ table, values, format: 'JSONEachRow' });
}
