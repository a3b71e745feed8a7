import type { MeterAggregation } from '@polaris/shared/meters';
import { sqlDateTime, sqlString, sqlStringList } from '../sql-literal';
import type { MeterUsagePlan } from './meter-usage.params';
import type { MeterWindowSize } from './zone-windows';

/**
 * Where a meter usage SELECT reads from, in the words of its source: the rollups' merged states
 * (meter-usage.query.ts) or events_raw's arrays (meter-usage.raw.ts). Everything else, windows,
 * grouping, filters and value texts, is one builder, so the two paths answer the same question.
 */
export interface MeterUsageSource {
  /** The FROM clause. */
  from: string;
  /** Conditions of the source itself (namespace, version, range, backfill runs). */
  where: string[];
  /** The UTC DateTime a row's window is computed from. */
  time: string;
  subject: string;
  /** Dimension `slot` (1 … 8) of a row. */
  dimension(slot: number): string;
  /** Aggregates over the selected rows. */
  events: string;
  validEvents: string;
  sum: string;
  min: string;
  max: string;
  latest: string;
  uniqueKeys: string;
}

// 18.16 prints a Decimal128 whose integer part reaches 1e21 as garbage, so a sum that large is
// answered as '' and refused as out of range (meter-usage.rows.ts), on every version alike.
const SUM_LIMIT = `toDecimal128('1${'0'.repeat(21)}', 0)`;

/**
 * The answer window holding `time`, as epoch seconds, by ClickHouse's own zone functions. The
 * rollup read has whole windows of a grain that divides these (planMeterUsage), so a rollup row
 * falls in the window of every event in it. Minutes are the same in every zone since 1972.
 */
function windowStart(size: MeterWindowSize, time: string, zone: string): string {
  const tz = sqlString(zone);
  switch (size) {
    case 'none':
      return '0';
    case 'minute':
      return `toUnixTimestamp(toStartOfMinute(${time}))`;
    case 'hour':
      return `toUnixTimestamp(toStartOfHour(${time}, ${tz}))`;
    case 'day':
      return `toUnixTimestamp(toStartOfDay(${time}, ${tz}))`;
    case 'month':
      // toStartOfMonth gives a Date; its midnight in the zone is the window's first instant.
      return `toUnixTimestamp(toDateTime(toStartOfMonth(${time}, ${tz}), ${tz}))`;
  }
}

/** The aggregation's answer as text: exact decimals and counts, never a float. */
function valueText(aggregation: MeterAggregation, s: MeterUsageSource): string {
  switch (aggregation) {
    case 'SUM':
    case 'AVG': // the sum; the average is sum / valid events, divided in TS (meter-usage.rows.ts)
      return `if(abs(${s.sum}) < ${SUM_LIMIT}, toString(${s.sum}), '')`;
    case 'COUNT':
      return `toString(${s.events})`;
    case 'UNIQUE_COUNT':
      return `toString(${s.uniqueKeys})`;
    case 'MIN':
      return `toString(${s.min})`;
    case 'MAX':
      return `toString(${s.max})`;
    case 'LATEST':
      return `toString(${s.latest})`;
  }
}

/**
 * The one SELECT of a meter usage answer: a row per window and group, with the window start
 * (epoch seconds), the grouped subject and dimension values, the value text and the counts.
 * Aliases never reuse a column name: an alias shadows the column in WHERE (18.16 and current
 * ClickHouse alike), and `countMerge(event_count) AS event_count` would be a cyclic alias.
 */
export function meterUsageSelect(plan: MeterUsagePlan, s: MeterUsageSource): string {
  const p = plan.params;
  const dims = p.groupByDimensions.map((d) => s.dimension(d.index + 1));
  const where = [
    ...s.where,
    ...(p.subjects.length > 0 ? [`${s.subject} IN ${sqlStringList(p.subjects)}`] : []),
    ...p.dimensionFilters.map((f) => `${s.dimension(f.index + 1)} IN ${sqlStringList(f.values)}`),
  ];
  const groupBy = ['zone_window', 'group_subject', ...dims];
  return [
    `SELECT ${windowStart(p.windowSize, s.time, plan.timeZone)} AS zone_window,`,
    `       ${p.groupBySubject ? s.subject : "''"} AS group_subject,`,
    ...(dims.length > 0 ? [`       [${dims.join(', ')}] AS group_dims,`] : []),
    `       ${valueText(p.aggregation, s)} AS value,`,
    `       toString(${s.events}) AS events,`,
    `       toString(${s.validEvents}) AS valid_events`,
    `FROM ${s.from}`,
    `WHERE ${where.join('\n  AND ')}`,
    `GROUP BY ${groupBy.join(', ')}`,
    // Grouping by constants alone yields one all-zero row for no rows at all.
    `HAVING ${s.events} > 0`,
    `ORDER BY ${groupBy.join(', ')}`,
  ].join('\n');
}

/** `column` in [fromMs, toMs), on whole seconds (the range is on whole minutes). */
export function timeRange(column: string, fromMs: number, toMs: number): string {
  return `${column} >= ${sqlDateTime(fromMs)} AND ${column} < ${sqlDateTime(toMs)}`;
}
