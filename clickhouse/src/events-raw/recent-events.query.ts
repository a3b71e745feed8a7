import { z } from 'zod';
import { checkParams, selectRows, type ClickHouseReader, type SelectStatement } from '../named-query';
import { sqlDateTime, sqlString, sqlUInt } from '../sql-literal';

const RECENT = 'eventsRaw.recent';

/** DateTime is seconds in a UInt32: a bound past it would wrap around in SQL. */
const DATE_TIME_END_MS = 2 ** 32 * 1000;
const epochMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Where a page of recent events ends: the sort key of its last (oldest) event. */
export const recentEventsCursorSchema = z.object({ time_ms: epochMs, source: z.string(), id: z.string() });
export type RecentEventsCursor = z.infer<typeof recentEventsCursorSchema>;

/** The most events one page reads (one more than the API's 200, to tell whether a next page exists). */
export const MAX_RECENT_EVENTS_PAGE = 201;

export const recentEventsParamsSchema = z
  .object({
    namespace: z.string().min(1),
    /** Inclusive, epoch ms. Required: a read is always bounded in time, never the whole history. */
    fromMs: epochMs,
    /** Exclusive, epoch ms. */
    toMs: epochMs,
    type: z.string().optional(),
    subject: z.string().optional(),
    /** Events strictly older than this one (the previous page's last) in (time_ms, source, id) order. */
    before: recentEventsCursorSchema.optional(),
    limit: z.number().int().min(1).max(MAX_RECENT_EVENTS_PAGE),
  })
  .refine((p) => p.fromMs < p.toMs, { message: 'fromMs must be before toMs', path: ['toMs'] });
export type RecentEventsParams = z.input<typeof recentEventsParamsSchema>;

/** A stored event as the recent-events listing answers it: identity, time, data text as stored. */
export interface RecentEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  time_ms: number;
  /** Epoch seconds (the column is a DateTime). */
  ingested_at_s: number;
  /** The event's data, the JSON text stored. */
  data: string;
}

/** Strictly before the cursor in (time_ms, source, id) order, spelled out rather than as a tuple comparison (18.16). */
function beforeCursor(c: RecentEventsCursor): string[] {
  const t = sqlUInt(c.time_ms);
  const s = sqlString(c.source);
  return [
    ...(c.time_ms < DATE_TIME_END_MS ? [`time <= ${sqlDateTime(c.time_ms)}`] : []),
    `(time_ms < ${t} OR (time_ms = ${t} AND (source < ${s} OR (source = ${s} AND id < ${sqlString(c.id)}))))`,
  ];
}

/** events_raw's sort key (0001_events_raw.sql) past the namespace, which the WHERE fixes: what ReplacingMergeTree collapses on. */
const SORT_KEY_AFTER_NAMESPACE = 'type, subject, time, source, id';

/** eventsRaw.recent as a value. */
export function recentEventsStatement(params: RecentEventsParams): SelectStatement {
  const p = checkParams(RECENT, recentEventsParamsSchema, params);
  const where = [
    // The namespace first, always: it leads the sort key and is the tenant boundary.
    `namespace = ${sqlString(p.namespace)}`,
    // Whole seconds for partition and index pruning, then the exact milliseconds.
    `time >= ${sqlDateTime(p.fromMs)}`,
    ...(p.toMs < DATE_TIME_END_MS ? [`time <= ${sqlDateTime(p.toMs)}`] : []),
    `time_ms >= ${sqlUInt(p.fromMs)}`,
    `time_ms < ${sqlUInt(p.toMs)}`,
    ...(p.type === undefined ? [] : [`type = ${sqlString(p.type)}`]),
    ...(p.subject === undefined ? [] : [`subject = ${sqlString(p.subject)}`]),
    ...(p.before ? beforeCursor(p.before) : []),
  ];
  return {
    query: [
      // Aliases unlike the columns: an alias would shadow its column in WHERE and ORDER BY.
      'SELECT id, source, type, subject, toString(time_ms) AS event_time_ms, toUInt32(ingested_at) AS ingested_s, data',
      'FROM events_raw',
      `WHERE ${where.join('\n  AND ')}`,
      // Copies of one row (same sort key) sort next to each other, the newest ingest_seq first:
      // LIMIT 1 BY the sort key keeps that one, the row FINAL would keep (readRecentEvents says why not FINAL).
      'ORDER BY time_ms DESC, source DESC, id DESC, ingest_seq DESC',
      `LIMIT 1 BY ${SORT_KEY_AFTER_NAMESPACE}`,
      `LIMIT ${sqlUInt(p.limit)}`,
    ].join('\n'),
  };
}

const recentEventRow = z
  .object({
    id: z.string(),
    source: z.string(),
    type: z.string(),
    subject: z.string(),
    event_time_ms: z.string().regex(/^\d+$/),
    ingested_s: z.number().int().nonnegative(),
    data: z.string(),
  })
  .transform(
    (r): RecentEvent => ({ id: r.id, source: r.source, type: r.type, subject: r.subject, time_ms: Number(r.event_time_ms), ingested_at_s: r.ingested_s, data: r.data }),
  );

/**
 * eventsRaw.recent: up to `limit` stored events of one namespace in [fromMs, toMs), newest first
 * in (time_ms, source, id) order, strictly before `before` when given. Contract:
 * - Shows each stored row once, as FINAL would: an exact redelivery of a message that reached the
 *   table shows once (the copy with the highest ingest_seq), as the meters counted it once. Not
 *   FINAL itself: on 18.16 FINAL merges every part of the namespace in range, all columns, the
 *   `data` text included, before the LIMIT, and was most of a dashboard's wait (bench:gateway:
 *   ListEvents p50 44 ms beside 24 ms for a QueryMeter); `LIMIT 1 BY` the sort key reads the same
 *   rows in parallel with no merge. A narrower first range would not help: merged parts span the
 *   month, so an hour reads the same granules as a week.
 * - The time range bounds what is read (partitions by month).
 * - The key is unique per stored event (the sink stores an identity once), so paging with the
 *   last event of a page visits each event once; events inserted meanwhile newer than the first
 *   page simply are not on later pages.
 */
export async function readRecentEvents(reader: ClickHouseReader, params: RecentEventsParams): Promise<RecentEvent[]> {
  return selectRows(reader, RECENT, recentEventsStatement(params), recentEventRow);
}

/** All the Usage API's ListEvents needs of ClickHouse: this one read. */
export interface RecentEventsReader {
  recent(params: RecentEventsParams): Promise<RecentEvent[]>;
}

export function recentEventsReader(client: ClickHouseReader): RecentEventsReader {
  return { recent: (params) => readRecentEvents(client, params) };
}
