import { z } from 'zod';
import { CLICKHOUSE_DATE_TIME, toClickHouseDateTime } from '../date-time';
import { DECIMAL_128_9_TEXT } from '../decimal-text';
import { uint64TextSchema } from '../uint64-text';

const epochMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const scopeFields = z.object({
  namespace: z.string(),
  eventType: z.string(),
  /** R_V, the catalog revision that created the meter version, as decimal text. */
  belowRevision: uint64TextSchema,
  /** Inclusive, epoch ms; unset = from the first stored event. */
  fromMs: epochMs.optional(),
  /** Exclusive, epoch ms; unset = to the last stored event. */
  toMs: epochMs.optional(),
});
const rangeInOrder = (s: { fromMs?: number | undefined; toMs?: number | undefined }) => s.fromMs === undefined || s.toMs === undefined || s.fromMs < s.toMs;

/**
 * The events a backfill of a meter version counts (docs/meters.md, "Catalog revisions…"): those
 * of its (namespace, event type) stored with a catalog revision below the version's, which the
 * live path therefore did not extract it for; optionally only in [fromMs, toMs).
 */
export const backfillScopeSchema = scopeFields.refine(rangeInOrder, { message: 'fromMs must be before toMs', path: ['toMs'] });
export type BackfillScope = z.input<typeof backfillScopeSchema>;

/** Where a page ends: the sort key of its last event (a StoredEvent will do). */
export const backfillCursorSchema = z.object({ time_ms: epochMs, source: z.string(), id: z.string() });
export type BackfillCursor = z.infer<typeof backfillCursorSchema>;

export const MAX_BACKFILL_PAGE = 100_000;

/** A backfill scope, and which page of it. */
export const readEventsParamsSchema = scopeFields
  .extend({
    /** Events strictly after this one (the previous page's last event); from the first when unset. */
    after: backfillCursorSchema.optional(),
    limit: z.number().int().min(1).max(MAX_BACKFILL_PAGE),
  })
  .refine(rangeInOrder, { message: 'fromMs must be before toMs', path: ['toMs'] });
export type ReadEventsParams = z.input<typeof readEventsParamsSchema>;

/** A stored event as a backfill extracts from it: its identity, subject, time and data (JSON text). */
export interface StoredEvent {
  id: string;
  source: string;
  subject: string;
  time_ms: number;
  data: string;
}

/**
 * One row of meter_values_backfill_v1 (clickhouse/migrations/0003_meter_values_backfill_v1.sql),
 * by column name as EventsRawRow is: what a backfill run computed for one stored event and one
 * meter version (the extractor's result, shared/src/meters MeterExtraction, plus the event).
 */
export const meterValuesBackfillRowSchema = z
  .object({
    namespace: z.string(),
    /** UInt64 as text. */
    meter_version_id: uint64TextSchema,
    /** UInt64 as text, never 0 (0 is the live path). */
    backfill_run: uint64TextSchema.refine((s) => s !== '0', 'run 0 is the live path; a backfill run id is never 0'),
    subject: z.string(),
    /** toClickHouseDateTime(time_ms): the rollups window by it, LATEST orders by time_ms. */
    time: z.string().regex(CLICKHOUSE_DATE_TIME, "must be 'YYYY-MM-DD hh:mm:ss' (toClickHouseDateTime)"),
    time_ms: epochMs,
    /** meterEventKey(source, id): `${source}\n${id}`, as the views on events_raw build it. */
    event_key: z.string(),
    /** Decimal128(9) text; '0' when invalid or COUNT. Sent as a bare JSON number. */
    value: z.string().regex(DECIMAL_128_9_TEXT, 'must be Decimal128(9) text: at most 20 integer and 9 fractional digits, no exponent'),
    /** '' unless UNIQUE_COUNT. */
    unique_key: z.string(),
    /** In the meter's dimension order, at most 8. */
    dimensions: z.array(z.string()).max(8),
    /** 1 valid, 0 invalid. */
    valid: z.union([z.literal(0), z.literal(1)]),
  })
  .refine((r) => r.time === toClickHouseDateTime(r.time_ms), { message: 'must be toClickHouseDateTime(time_ms)', path: ['time'] });
export type MeterValuesBackfillRow = z.infer<typeof meterValuesBackfillRowSchema>;
