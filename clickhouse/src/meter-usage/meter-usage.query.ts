import { selectRows, type ClickHouseReader, type SelectStatement } from '../named-query';
import { sqlString, sqlUInt } from '../sql-literal';
import { planMeterUsage, type MeterUsagePlan, type MeterUsageQuery } from './meter-usage.params';
import { meterUsageResult, meterUsageSqlRow, type MeterUsageResult } from './meter-usage.rows';
import { meterUsageSelect, timeRange, type MeterUsageSource } from './meter-usage.sql';

const QUERY = 'meterUsage.query';

/**
 * Which rows of a rollup count: the live path (run 0) everywhere, and each completed backfill
 * run only inside its segment (docs/meters.md, "Runs and segments"), clipped to the range (an
 * open end would overflow DateTime). Rows of a run that died or was superseded match no segment.
 */
function backfillRuns(plan: MeterUsagePlan): string {
  const { fromMs, toMs, segments } = plan.params;
  const runs = segments
    .map((s) => ({ run: s.backfillRunId, from: Math.max(s.fromMs, fromMs), to: Math.min(s.toMs, toMs) }))
    .filter((s) => s.from < s.to)
    .map((s) => `(backfill_run = ${sqlUInt(BigInt(s.run))} AND ${timeRange('window_start', s.from, s.to)})`);
  return `(${['backfill_run = 0', ...runs].join(' OR ')})`;
}

/**
 * The rollup source: meter_usage_per_{grain}_v1, its states merged with -Merge and GROUP BY.
 * Never FINAL: an AggregatingMergeTree's unmerged parts are partial states of the same groups,
 * and merging them is exactly what -Merge does at query time.
 */
function rollupSource(plan: MeterUsagePlan): MeterUsageSource {
  const p = plan.params;
  return {
    from: `meter_usage_per_${plan.grain}_v1`,
    where: [
      `namespace = ${sqlString(p.namespace)}`,
      `meter_version_id = ${sqlUInt(BigInt(p.meterVersionId))}`,
      timeRange('window_start', p.fromMs, p.toMs),
      backfillRuns(plan),
    ],
    time: 'window_start',
    subject: 'subject',
    dimension: (slot) => `dim_${slot}`,
    events: 'countMerge(event_count)',
    validEvents: 'sumMerge(valid_count)',
    sum: 'sumIfMerge(value_sum)',
    min: 'minIfMerge(value_min)',
    max: 'maxIfMerge(value_max)',
    latest: 'argMaxIfMerge(value_latest)',
    uniqueKeys: 'uniqExactIfMerge(unique_keys)',
  };
}

/** meterUsage.query as a value, with its plan (windows, rollup); throws what planMeterUsage throws. */
export function meterUsageStatement(params: MeterUsageQuery): SelectStatement & { plan: MeterUsagePlan } {
  const plan = planMeterUsage(QUERY, params);
  return { query: meterUsageSelect(plan, rollupSource(plan)), plan };
}

/**
 * meterUsage.query: the usage of one meter version in one namespace, per window of a time zone
 * and per group, from the rollups (docs/meters.md). Contract:
 * - `from`/`to` on whole minutes, `to` exclusive; windows are the zone's calendar minutes, hours,
 *   days or months (a New York day lasts 23 or 25 hours across DST), or the range itself for
 *   `none`. The first and last windows may be partial: window_start/window_end are the zone's
 *   boundaries, the values count only events in [from, to).
 * - Reads the coarsest rollup (day, hour, minute) whose UTC windows tile the range, every answer
 *   window and every segment bound, so the answer equals the raw one (meterUsage.queryRaw).
 * - Counts backfill runs only inside their segments (`segments`, from PostgreSQL).
 * - Rows are sorted by window, subject, then grouped dimensions; no rows for no events.
 * - Throws PolarisError invalid_argument: invalid_range, unaligned_range (from, to, or a zone
 *   whose windows are off the minute), unknown_time_zone (window_time_zone), too_many_windows
 *   (window_size, over MAX_METER_WINDOWS), empty_dimension_filter, sum_out_of_range (a SUM or
 *   AVG window whose sum reaches 1e21); QueryShapeError for params of another shape.
 * - An event inserted twice is counted twice (views see every INSERT block): the sink keeps
 *   stored identities out of events_raw, which is what keeps these totals exact.
 */
export async function queryMeterUsage(reader: ClickHouseReader, params: MeterUsageQuery): Promise<MeterUsageResult> {
  const { plan, ...statement } = meterUsageStatement(params);
  return meterUsageResult(plan, await selectRows(reader, QUERY, statement, meterUsageSqlRow));
}
