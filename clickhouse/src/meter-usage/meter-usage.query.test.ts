import { describe, expect, it } from 'vitest';
import { QueryShapeError, type ClickHouseReader } from '../named-query';
import type { MeterUsageQuery } from './meter-usage.params';
import { meterUsageStatement, queryMeterUsage } from './meter-usage.query';
import { meterUsageRawStatement } from './meter-usage.raw';
import { averageText } from './meter-usage.rows';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const march1 = Date.UTC(2026, 2, 1);
const q: MeterUsageQuery = { namespace: 'ns', meterVersionId: '42', aggregation: 'SUM', fromMs: march1, toMs: march1 + 7 * DAY, windowSize: 'day', timeZone: 'UTC' };
const tableOf = (params: Partial<MeterUsageQuery>) => /FROM (meter_usage_per_\w+)/.exec(meterUsageStatement({ ...q, ...params }).query)?.[1];
const answering = (rows: object[]) => ({ query: async () => ({ stream: async function* () { yield rows.map((r) => ({ text: JSON.stringify(r), json: () => r })); } }) }) as unknown as ClickHouseReader;

describe('meterUsage.query: which rollup', () => {
  it.each([
    ['UTC days', {}, 'meter_usage_per_day_v1'],
    ['UTC months', { windowSize: 'month', fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 6, 1) }, 'meter_usage_per_day_v1'],
    ['no windows over whole UTC days', { windowSize: 'none' }, 'meter_usage_per_day_v1'],
    ['UTC hours', { windowSize: 'hour', toMs: march1 + DAY }, 'meter_usage_per_hour_v1'],
    ['UTC days from 10:00', { fromMs: march1 + 10 * HOUR }, 'meter_usage_per_hour_v1'],
    ['New York days', { timeZone: 'America/New_York', fromMs: march1 + 5 * HOUR, toMs: march1 + 5 * HOUR + 7 * DAY }, 'meter_usage_per_hour_v1'],
    ['New York months', { timeZone: 'America/New_York', windowSize: 'month', fromMs: Date.UTC(2026, 0, 1, 5), toMs: Date.UTC(2026, 6, 1, 4) }, 'meter_usage_per_hour_v1'],
    ['Kolkata hours', { timeZone: 'Asia/Kolkata', windowSize: 'hour', toMs: march1 + DAY }, 'meter_usage_per_minute_v1'],
    ['Kolkata days', { timeZone: 'Asia/Kolkata' }, 'meter_usage_per_minute_v1'],
    ['Kathmandu days', { timeZone: 'Asia/Kathmandu' }, 'meter_usage_per_minute_v1'],
    ['minutes', { windowSize: 'minute', toMs: march1 + HOUR }, 'meter_usage_per_minute_v1'],
    ['a backfill segment ending at 06:00', { segments: [{ backfillRunId: '9', fromMs: march1 - DAY, toMs: march1 + 6 * HOUR }] }, 'meter_usage_per_hour_v1'],
    ['a segment ending outside the range', { segments: [{ backfillRunId: '9', fromMs: march1 - DAY, toMs: march1 + 30 * DAY + HOUR }] }, 'meter_usage_per_day_v1'],
  ] as const)('%s → %s', (_, params, table) => {
    expect(tableOf(params as Partial<MeterUsageQuery>)).toBe(table);
  });
});

describe('meterUsage.query statement', () => {
  it('merges rollup states, never FINAL, and reads run 0 plus each run inside its segment', () => {
    const { query } = meterUsageStatement({ ...q, segments: [{ backfillRunId: '7', fromMs: march1, toMs: march1 + DAY }, { backfillRunId: '8', fromMs: march1 + DAY, toMs: march1 + 2 * DAY }] });
    expect(query).not.toContain('FINAL');
    expect(query).toContain('sumIfMerge(value_sum)');
    expect(query).toContain(
      "(backfill_run = 0 OR (backfill_run = 7 AND window_start >= toDateTime(1772323200, 'UTC') AND window_start < toDateTime(1772409600, 'UTC')) OR " +
        "(backfill_run = 8 AND window_start >= toDateTime(1772409600, 'UTC') AND window_start < toDateTime(1772496000, 'UTC')))",
    );
    expect(meterUsageStatement(q).query).toContain('AND (backfill_run = 0)\n');
  });

  it('clips segments to the range, so a whole-history segment [0, ∞) never overflows DateTime, and drops those outside it', () => {
    const { query } = meterUsageStatement({
      ...q,
      segments: [{ backfillRunId: '3', fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }, { backfillRunId: '4', fromMs: 0, toMs: march1 }],
    });
    expect(query).toContain("(backfill_run = 0 OR (backfill_run = 3 AND window_start >= toDateTime(1772323200, 'UTC') AND window_start < toDateTime(1772928000, 'UTC')))");
    expect(tableOf({ segments: [{ backfillRunId: '3', fromMs: 0, toMs: Number.MAX_SAFE_INTEGER }] })).toBe('meter_usage_per_day_v1');
  });

  it.each([
    ['COUNT', 'toString(countMerge(event_count)) AS value'],
    ['UNIQUE_COUNT', 'toString(uniqExactIfMerge(unique_keys)) AS value'],
    ['MIN', 'toString(minIfMerge(value_min)) AS value'],
    ['MAX', 'toString(maxIfMerge(value_max)) AS value'],
    ['LATEST', 'toString(argMaxIfMerge(value_latest)) AS value'],
    ['AVG', 'toString(sumIfMerge(value_sum)), \'\') AS value'],
  ] as const)('answers %s with %s', (aggregation, sql) => {
    expect(meterUsageStatement({ ...q, aggregation }).query).toContain(sql);
  });

  it('groups and filters by dimension slot, the first dimension being dim_1', () => {
    const { query } = meterUsageStatement({
      ...q,
      groupBySubject: true,
      groupByDimensions: [{ index: 2, name: 'region' }, { index: 0, name: 'model' }],
      dimensionFilters: [{ index: 7, values: ['a'] }],
      subjects: ['acme'],
    });
    expect(query).toContain('[dim_3, dim_1] AS group_dims');
    expect(query).toContain('GROUP BY zone_window, group_subject, dim_3, dim_1');
    expect(query).toContain("dim_8 IN ('a')");
    expect(query).toContain("subject IN ('acme')");
  });

  it('computes windows in the zone with ClickHouse functions', () => {
    const of = (windowSize: MeterUsageQuery['windowSize']) => meterUsageStatement({ ...q, windowSize, timeZone: 'Asia/Kolkata', toMs: march1 + DAY }).query.split('\n')[0];
    expect(of('hour')).toBe("SELECT toUnixTimestamp(toStartOfHour(window_start, 'Asia/Calcutta')) AS zone_window,");
    expect(of('day')).toBe("SELECT toUnixTimestamp(toStartOfDay(window_start, 'Asia/Calcutta')) AS zone_window,");
    expect(of('month')).toBe("SELECT toUnixTimestamp(toDateTime(toStartOfMonth(window_start, 'Asia/Calcutta'), 'Asia/Calcutta')) AS zone_window,");
    expect(of('none')).toBe('SELECT 0 AS zone_window,');
  });

  it('keeps hostile strings inside their literals, and refuses a hostile time zone before any SQL', () => {
    const payload = "x' OR 1=1) --\\";
    const { query } = meterUsageStatement({ ...q, namespace: payload, subjects: [payload], dimensionFilters: [{ index: 0, values: [payload] }] });
    const escaped = "'x\\' OR 1=1) --\\\\'";
    expect(query).toContain(`namespace = ${escaped}`);
    expect(query).toContain(`subject IN (${escaped})`);
    expect(query).toContain(`dim_1 IN (${escaped})`);
    expect(() => meterUsageStatement({ ...q, timeZone: "UTC') OR 1=1 --" })).toThrow(expect.objectContaining({ code: 'unknown_time_zone', field: 'window_time_zone' }));
  });

  it('reads the raw path from events_raw FINAL, FINAL before ARRAY JOIN', () => {
    const { query } = meterUsageRawStatement({ ...q, groupByDimensions: [{ index: 1, name: 'm' }] });
    expect(query).toMatch(/FROM \(SELECT .* FROM events_raw FINAL WHERE namespace = 'ns' .*has\(meter_version_ids, 42\)\)\nARRAY JOIN meter_version_ids AS mv_id/);
    expect(query).toContain('WHERE mv_id = 42');
    expect(query).toContain('[mv_dims[2]] AS group_dims');
    expect(query).not.toContain('backfill_run');
  });
});

describe('meterUsage.query refusals', () => {
  it.each([
    ['from off the minute', { fromMs: march1 + 1_000 }, 'unaligned_range', 'from'],
    ['to off the minute', { toMs: march1 + DAY + 30_000 }, 'unaligned_range', 'to'],
    ['an empty range', { toMs: march1 }, 'invalid_range', 'to'],
    ['a time before 1970', { fromMs: -60_000 }, 'invalid_range', 'from'],
    ['an unknown zone', { timeZone: 'Mars/Olympus' }, 'unknown_time_zone', 'window_time_zone'],
    ['an offset for a zone', { timeZone: '+05:30' }, 'unknown_time_zone', 'window_time_zone'],
    ['10,001 minutes', { windowSize: 'minute', toMs: march1 + 10_001 * 60_000 }, 'too_many_windows', 'window_size'],
    ['a filter with no values', { dimensionFilters: [{ index: 0, values: [] }] }, 'empty_dimension_filter', 'dimension_filters'],
    ['a Monrovia day of 1971 (offset -0:44:30)', { timeZone: 'Africa/Monrovia', fromMs: Date.UTC(1971, 0, 1), toMs: Date.UTC(1971, 0, 3) }, 'unaligned_range', 'window_time_zone'],
  ] as const)('refuses %s as %s', (_, params, code, field) => {
    expect(() => meterUsageStatement({ ...q, ...(params as Partial<MeterUsageQuery>) })).toThrow(expect.objectContaining({ kind: 'invalid_argument', code, field }));
  });

  it('takes exactly 10,000 windows', () => {
    expect(() => meterUsageStatement({ ...q, windowSize: 'minute', toMs: march1 + 10_000 * 60_000 })).not.toThrow();
  });

  it.each([
    ['a version id that is not a UInt64', { meterVersionId: '18446744073709551616' }],
    ['a version id in another spelling', { meterVersionId: '042' }],
    ['backfill run 0 (the live path)', { segments: [{ backfillRunId: '0', fromMs: march1, toMs: march1 + DAY }] }],
    ['a segment off the minute', { segments: [{ backfillRunId: '1', fromMs: march1 + 1, toMs: march1 + DAY }] }],
    ['a ninth dimension', { groupByDimensions: [{ index: 8, name: 'x' }] }],
    ['a dimension grouped twice', { groupByDimensions: [{ index: 1, name: 'x' }, { index: 1, name: 'y' }] }],
    ['an unknown aggregation', { aggregation: 'MEDIAN' }],
  ] as const)('refuses %s as a bug of the caller (QueryShapeError)', (_, params) => {
    expect(() => meterUsageStatement({ ...q, ...(params as Partial<MeterUsageQuery>) })).toThrow(QueryShapeError);
  });
});

describe('meterUsage.query answers', () => {
  const sqlRow = (over: object) => ({ zone_window: march1 / 1000, group_subject: '', value: '3.500000000', events: '5', valid_events: '4', ...over });

  it('maps rows: windows from TS, canonical decimals, invalid = events − valid', async () => {
    const res = await queryMeterUsage(answering([sqlRow({ group_dims: ['gpt'] }), sqlRow({ zone_window: (march1 + DAY) / 1000, group_dims: [''], value: '0', valid_events: '5' })]), {
      ...q,
      groupByDimensions: [{ index: 0, name: 'model' }],
    });
    expect(res).toEqual({
      rows: [
        { windowStartMs: march1, windowEndMs: march1 + DAY, subject: '', dimensions: { model: 'gpt' }, value: '3.5', eventCount: '5', invalidCount: '1' },
        { windowStartMs: march1 + DAY, windowEndMs: march1 + 2 * DAY, subject: '', dimensions: { model: '' }, value: '0', eventCount: '5', invalidCount: '0' },
      ],
      invalidCount: '1',
    });
  });

  it('leaves MIN, MAX, LATEST and AVG unset with no valid value, but answers SUM 0', async () => {
    for (const aggregation of ['MIN', 'MAX', 'LATEST', 'AVG'] as const) {
      const [row] = (await queryMeterUsage(answering([sqlRow({ value: '0', valid_events: '0' })]), { ...q, aggregation })).rows;
      expect(row, aggregation).not.toHaveProperty('value');
    }
    const [sum] = (await queryMeterUsage(answering([sqlRow({ value: '0', valid_events: '0' })]), q)).rows;
    expect(sum?.value).toBe('0');
  });

  it('refuses a sum past 1e21 (which 18.16 cannot print) for SUM and AVG', async () => {
    for (const aggregation of ['SUM', 'AVG'] as const) {
      await expect(queryMeterUsage(answering([sqlRow({ value: '' })]), { ...q, aggregation })).rejects.toMatchObject({ kind: 'invalid_argument', code: 'sum_out_of_range' });
    }
  });

  it('fails loudly when ClickHouse groups a window that is not one of the zone windows computed in TS', async () => {
    await expect(queryMeterUsage(answering([sqlRow({ zone_window: march1 / 1000 + 3600 })]), q)).rejects.toThrow(/not a day of UTC by Node's tzdata/);
  });
});

describe('AVG', () => {
  it('divides exactly and rounds to 9 fractional digits, half to even', () => {
    expect(averageText('7', '2')).toBe('3.5');
    expect(averageText('10', '3')).toBe('3.333333333');
    expect(averageText('20', '3')).toBe('6.666666667');
    expect(averageText('0.000000005', '2')).toBe('0.000000002'); // 0.0000000025 → even
    expect(averageText('0.000000015', '2')).toBe('0.000000008'); // 0.0000000075 → even
    expect(averageText('-0.000000005', '2')).toBe('-0.000000002');
    expect(averageText('-0.000000001', '3')).toBe('0'); //            never '-0'
    expect(averageText('99999999999999999999999999999.999999999', '7')).toBe('14285714285714285714285714285.714285714');
  });
});
