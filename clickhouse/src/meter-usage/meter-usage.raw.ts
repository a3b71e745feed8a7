import { selectRows, type ClickHouseReader, type SelectStatement } from '../named-query';
import { sqlString, sqlUInt } from '../sql-literal';
import { planMeterUsage, type MeterUsagePlan, type MeterUsageQuery } from './meter-usage.params';
import { meterUsageResult, meterUsageSqlRow, type MeterUsageResult } from './meter-usage.rows';
import { meterUsageSelect, timeRange, type MeterUsageSource } from './meter-usage.sql';

const QUERY = 'meterUsage.queryRaw';

/**
 * The raw source: events_raw FINAL (one copy per exact redelivery), each row's meter arrays
 * ARRAY JOINed into one row per meter version, aggregated with the same functions the rollups'
 * views store states of. FINAL is applied in a subquery, before ARRAY JOIN, so it collapses
 * events and not their meter elements.
 */
function rawSource(plan: MeterUsagePlan): MeterUsageSource {
  const p = plan.params;
  const version = sqlUInt(BigInt(p.meterVersionId));
  const events = [
    'SELECT time, time_ms, source, id, subject, meter_version_ids, meter_values, meter_unique_keys, meter_dimensions, meter_valid',
    'FROM events_raw FINAL',
    `WHERE namespace = ${sqlString(p.namespace)} AND ${timeRange('time', p.fromMs, p.toMs)} AND has(meter_version_ids, ${version})`,
  ].join(' ');
  return {
    from: `(${events})\nARRAY JOIN meter_version_ids AS mv_id, meter_values AS mv_value, meter_unique_keys AS mv_key, meter_dimensions AS mv_dims, meter_valid AS mv_valid`,
    where: [`mv_id = ${version}`],
    time: 'time',
    subject: 'subject',
    dimension: (slot) => `mv_dims[${slot}]`,
    events: 'count()',
    validEvents: 'sum(toUInt64(mv_valid))',
    sum: 'sumIf(mv_value, mv_valid)',
    min: 'minIf(mv_value, mv_valid)',
    max: 'maxIf(mv_value, mv_valid)',
    latest: "argMaxIf(mv_value, (time_ms, concat(source, '\\n', id)), mv_valid)",
    uniqueKeys: "uniqExactIf(mv_key, mv_valid AND mv_key != '')",
  };
}

/** meterUsage.queryRaw as a value, with its plan. */
export function meterUsageRawStatement(params: MeterUsageQuery): SelectStatement & { plan: MeterUsagePlan } {
  const plan = planMeterUsage(QUERY, params);
  return { query: meterUsageSelect(plan, rawSource(plan)), plan };
}

/**
 * meterUsage.queryRaw: the same question and answer shape as meterUsage.query, computed exactly
 * from the values stored in events_raw (FINAL, no rollups), for tests and benches to check the
 * rollups against. Two differences, both by design:
 * - Backfilled values live only in the rollups (meter_values_backfill_v1 keeps nothing), so
 *   `segments` are ignored here and only values stored with the events count.
 * - FINAL counts an event inserted twice once; the rollups count it twice (SUM, COUNT, AVG;
 *   UNIQUE_COUNT, MIN, MAX and LATEST are unchanged by a copy). The sink's probe keeps copies out.
 * Slow on large ranges (it reads every event); not for the API.
 */
export async function queryMeterUsageRaw(reader: ClickHouseReader, params: MeterUsageQuery): Promise<MeterUsageResult> {
  const { plan, ...statement } = meterUsageRawStatement(params);
  return meterUsageResult(plan, await selectRows(reader, QUERY, statement, meterUsageSqlRow));
}
