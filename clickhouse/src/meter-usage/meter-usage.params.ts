import { PolarisError } from '@polaris/shared/errors';
import { METER_AGGREGATIONS } from '@polaris/shared/meters';
import { z } from 'zod';
import { checkParams } from '../named-query';
import { uint64TextSchema } from '../uint64-text';
import { canonicalTimeZone, coarsestRollupGrain, MINUTE_MS, zoneWindowBoundaries, type RollupGrain } from './zone-windows';

/** Bounds how many windows (so rows per group) one query may return. */
export const MAX_METER_WINDOWS = 10_000;
/** DateTime ends in 2106; the range stays well inside it. */
const LAST_QUERYABLE_MS = Date.UTC(2100, 0, 1);
/** Dimensions per meter (docs/meters.md): dim_1 … dim_8 in the rollups. */
export const METER_DIMENSION_SLOTS = 8;

const dimensionIndex = z.number().int().min(0).max(METER_DIMENSION_SLOTS - 1);

/** A segment bound: on a whole minute, or at or past 2100 for an open end (Number.MAX_SAFE_INTEGER). */
const segmentBoundMs = z
  .number()
  .int()
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER)
  .refine((ms) => ms % MINUTE_MS === 0 || ms >= LAST_QUERYABLE_MS, 'must be on a whole minute (or at or past 2100 for an open end)');

/**
 * The completed backfill of a meter version (docs/meters.md, "Runs and segments"): rows of run
 * `backfillRunId` count only for rollup windows inside [fromMs, toMs). They come from PostgreSQL,
 * not from a user, so a malformed one is a bug (QueryShapeError), not an API error.
 */
export const backfillSegmentSchema = z
  .object({ backfillRunId: uint64TextSchema.refine((s) => s !== '0', 'run 0 is the live path, not a backfill run'), fromMs: segmentBoundMs, toMs: segmentBoundMs })
  .refine((s) => s.fromMs < s.toMs, 'fromMs must be before toMs');
export type BackfillSegment = z.infer<typeof backfillSegmentSchema>;

/**
 * The params of meterUsage.query and meterUsage.queryRaw. The gRPC service resolves the meter
 * slug to its answering version, its aggregation and segments, and dimension names to their
 * positions in the definition (0 = the first dimension, dim_1 in the rollups).
 */
export const meterUsageQuerySchema = z.object({
  namespace: z.string(),
  meterVersionId: uint64TextSchema,
  aggregation: z.enum(METER_AGGREGATIONS),
  /** The version's completed backfill segments; none while it has none. */
  segments: z.array(backfillSegmentSchema).default([]),
  /** Inclusive, epoch ms, on a whole minute. */
  fromMs: z.number().int(),
  /** Exclusive, epoch ms, on a whole minute. */
  toMs: z.number().int(),
  windowSize: z.enum(['none', 'minute', 'hour', 'day', 'month']),
  /** IANA name; '' is UTC. Windows are this zone's minutes, hours, days, months. */
  timeZone: z.string().default('UTC'),
  groupBySubject: z.boolean().default(false),
  /** Dimensions to group by, each answered in `dimensions` under its name. */
  groupByDimensions: z
    .array(z.object({ index: dimensionIndex, name: z.string() }))
    .default([])
    .refine((ds) => new Set(ds.map((d) => d.index)).size === ds.length && new Set(ds.map((d) => d.name)).size === ds.length, 'each dimension at most once'),
  /** Only these subjects; empty = all. */
  subjects: z.array(z.string()).default([]),
  /** Per dimension, the values it must equal one of. */
  dimensionFilters: z.array(z.object({ index: dimensionIndex, values: z.array(z.string()) })).default([]),
});
export type MeterUsageQuery = z.input<typeof meterUsageQuerySchema>;
export type MeterUsageParams = z.output<typeof meterUsageQuerySchema>;

/** What every meter usage statement is built from: the checked params and the windows they imply. */
export interface MeterUsagePlan {
  params: MeterUsageParams;
  /** Canonical IANA name, safe to hand ClickHouse (still only through sqlString). */
  timeZone: string;
  /** The coarsest rollup whose UTC windows tile the range, the answer windows and the segments. */
  grain: RollupGrain;
  /** Answer window start → end (epoch ms), computed in TS; for `none`, from → to. */
  windows: Map<number, number>;
}

const invalid = (code: string, message: string, field?: string) => new PolarisError('invalid_argument', code, message, field);

/**
 * Checks the params (QueryShapeError for a wrong shape, a bug of the caller; PolarisError
 * invalid_argument with the API's code and field for what a user asked wrongly) and works out
 * the windows and the rollup to read.
 */
export function planMeterUsage(queryName: string, input: MeterUsageQuery): MeterUsagePlan {
  const params = checkParams(queryName, meterUsageQuerySchema, input);
  const { fromMs, toMs } = params;
  if (fromMs < 0) throw invalid('invalid_range', '`from` must not be before 1970', 'from');
  if (toMs <= fromMs) throw invalid('invalid_range', '`to` must be after `from`', 'to');
  if (toMs > LAST_QUERYABLE_MS) throw invalid('invalid_range', '`to` must be before 2100', 'to');
  if (fromMs % MINUTE_MS !== 0) throw invalid('unaligned_range', '`from` must be on a whole minute', 'from');
  if (toMs % MINUTE_MS !== 0) throw invalid('unaligned_range', '`to` must be on a whole minute', 'to');
  const timeZone = canonicalTimeZone(params.timeZone);
  if (timeZone === undefined) throw invalid('unknown_time_zone', `unknown time zone ${JSON.stringify(params.timeZone)}; use an IANA name such as Europe/Paris`, 'window_time_zone');
  if (params.dimensionFilters.some((f) => f.values.length === 0)) {
    throw invalid('empty_dimension_filter', 'a dimension filter must list at least one value', 'dimension_filters');
  }

  const boundaries = zoneWindowBoundaries(fromMs, toMs, params.windowSize, timeZone, MAX_METER_WINDOWS);
  if (boundaries === undefined) {
    throw invalid('too_many_windows', `the range holds more than ${MAX_METER_WINDOWS} windows; use a larger window size or a shorter range`, 'window_size');
  }
  const inside = (t: number) => t > fromMs && t < toMs;
  const grain = coarsestRollupGrain([
    fromMs,
    toMs,
    ...boundaries.filter(inside),
    ...params.segments.flatMap((s) => [s.fromMs, s.toMs]).filter(inside),
  ]);
  // Only a zone whose offset had seconds (before 1972) starts windows off the minute.
  if (grain === undefined) throw invalid('unaligned_range', `windows of ${timeZone} in this range do not start on whole minutes`, 'window_time_zone');

  const windows = new Map<number, number>();
  for (let i = 0; i + 1 < boundaries.length; i++) windows.set(boundaries[i] as number, boundaries[i + 1] as number);
  return { params, timeZone, grain, windows };
}
