import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import { checkParams, selectRows, type ClickHouseReader, type SelectStatement } from '../named-query';
import { sqlDateTime, sqlString, sqlStringList, sqlUInt } from '../sql-literal';

const QUERY = 'usage.query';

/** Window sizes in the domain's words; the Usage gRPC service translates its proto enum into these. */
export const usageWindowSchema = z.enum(['none', 'minute', 'hour', 'day']);
export type UsageWindow = z.infer<typeof usageWindowSchema>;

/**
 * Domain → SQL for window sizes, the only place it happens: how long a window is and where it
 * starts, in ClickHouse functions.
 */
const WINDOWS: Record<Exclude<UsageWindow, 'none'>, { ms: number; start: string }> = {
  minute: { ms: 60_000, start: 'toStartOfMinute(time)' },
  hour: { ms: 3_600_000, start: 'toStartOfHour(time)' },
  day: { ms: 86_400_000, start: "toStartOfDay(time, 'UTC')" },
};

// Not refused here when negative: the range checks below answer first, as the API always has;
// sqlUInt then refuses a time before 1970.
const epochMs = z.number().int();

/** The params of usage.query, checked for shape; what the API refuses by name is checked in `usageStatement`. */
export const usageQuerySchema = z.object({
  namespace: z.string(),
  eventType: z.string(),
  /** Inclusive, epoch ms. */
  fromMs: epochMs,
  /** Exclusive, epoch ms. */
  toMs: epochMs,
  windowSize: usageWindowSchema,
  /** undefined → count events; otherwise sum this top-level numeric property of `data`. */
  valueProperty: z.string().optional(),
  subjects: z.array(z.string()),
  groupBySubject: z.boolean(),
});
export type UsageQuery = z.infer<typeof usageQuerySchema>;

export interface UsageRow {
  windowStartMs: number;
  windowEndMs: number;
  subject: string;
  /** Exact decimal string (Decimal128 with 9 fractional digits for sums). */
  value: string;
  eventCount: string;
}

export interface UsageResult {
  rows: UsageRow[];
  invalidValueCount: string;
}

const countText = z.string().regex(/^\d+$/, 'must be a count as text');

/** A row as the usage SQL returns it (JSONEachRow), on 18.16 and on current ClickHouse alike. */
const usageSqlRow = z.object({
  window_start: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]),
  group_subject: z.string(),
  /** '' when the sum is out of range (see SUM_LIMIT), else decimal text. */
  value: z.string(),
  event_count: countText,
  invalid_value_count: countText,
});

/** Bounds how many rows one query may return, so a tiny window over a year cannot explode. */
export const MAX_WINDOWS = 10_000;
export const VALUE_PROPERTY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// A value to sum is a JSON number, as visitParamExtractRaw returns it, that Decimal(38, 9) holds
// exactly and whose integer part has at most 20 digits (once the exponent is applied). Anything
// else (a string, null, missing, 1.2345678901, 1e21) must neither become 0 silently nor fail the
// whole query: such rows are counted apart, in invalid_value_count. Only valid text reaches
// toDecimal128, which current ClickHouse refuses for a non-number where 18.16 reads 0, and which
// 18.16 refuses for more than 9 fractional digits where current ClickHouse truncates.
// clickhouse/compat/modern-clickhouse.integration.test.ts runs these queries on both.
const JSON_NUMBER = '^-?[0-9]+(\\\\.[0-9]+)?([eE][-+]?[0-9]{1,4})?$';
const MAX_INTEGER_DIGITS = 20;
// 18.16 prints a Decimal128 whose integer part reaches 1e21 as garbage (NUL bytes in the text),
// so a larger sum is reported as out of range instead, on every version.
const SUM_LIMIT = `toDecimal128('1${'0'.repeat(21)}', 0)`;

function isExactDecimal(raw: string): string {
  const exponent = `toInt32OrZero(extract(${raw}, '[eE]([-+]?[0-9]+)$'))`;
  return [
    `match(${raw}, '${JSON_NUMBER}')`,
    `length(extract(${raw}, '^-?([0-9]+)')) + ${exponent} <= ${MAX_INTEGER_DIGITS}`,
    `length(extract(${raw}, '\\\\.([0-9]+)')) - ${exponent} <= 9`,
  ].join(' AND ');
}

/**
 * usage.query as a value. Reads events_raw with FINAL so that an exact redelivery which slipped
 * past the sink-worker's duplicate probe (crash between insert and commit) is still counted once.
 * Refuses, with the code the API answers, what the query cannot serve.
 */
export function usageStatement(params: UsageQuery): SelectStatement {
  const q = checkParams(QUERY, usageQuerySchema, params);
  if (q.toMs <= q.fromMs) throw new PolarisError('invalid_argument', 'invalid_range', '`to` must be after `from`', 'to');
  if (q.windowSize !== 'none' && (q.toMs - q.fromMs) / WINDOWS[q.windowSize].ms > MAX_WINDOWS) {
    throw new PolarisError('invalid_argument', 'too_many_windows', `the range holds more than ${MAX_WINDOWS} windows; use a larger window size`, 'window_size');
  }
  if (q.valueProperty !== undefined && !VALUE_PROPERTY_PATTERN.test(q.valueProperty)) {
    throw new PolarisError('invalid_argument', 'invalid_value_property', 'value_property must be a top-level property name ([A-Za-z_][A-Za-z0-9_]*)', 'value_property');
  }
  const windowExpr = q.windowSize === 'none' ? 'toDateTime(0)' : WINDOWS[q.windowSize].start;
  // Named group_subject, not subject: an alias shadows the column of the same name in WHERE (18.16
  // and current ClickHouse alike), so `'' AS subject` turned the subject filter into `'' IN (…)`.
  const subjectExpr = q.groupBySubject ? 'subject' : "''";
  const raw = q.valueProperty === undefined ? '' : `visitParamExtractRaw(data, ${sqlString(q.valueProperty)})`;
  // The conversion may run on every row (18.16 has no short-circuit evaluation), so invalid values
  // are swapped for '0' before it; the sumIf condition then leaves them out of the sum.
  const valid = `(${isExactDecimal(raw)})`;
  const sum = `sumIf(toDecimal128(if(${valid}, ${raw}, '0'), 9), ${valid})`;
  const value = q.valueProperty === undefined ? 'toString(count())' : `if(abs(${sum}) < ${SUM_LIMIT}, toString(${sum}), '')`;
  const invalid = q.valueProperty === undefined ? '0' : `countIf(NOT ${valid})`;
  const where = [
    `namespace = ${sqlString(q.namespace)}`,
    `type = ${sqlString(q.eventType)}`,
    // Whole seconds first, for partition and index pruning; then the exact millisecond bounds.
    `time >= ${sqlDateTime(q.fromMs)}`,
    `time <= ${sqlDateTime(q.toMs)}`,
    `time_ms >= ${sqlUInt(q.fromMs)}`,
    `time_ms < ${sqlUInt(q.toMs)}`,
    ...(q.subjects.length > 0 ? [`subject IN ${sqlStringList(q.subjects)}`] : []),
  ];
  const query = [
    `SELECT toUnixTimestamp(${windowExpr}) AS window_start, ${subjectExpr} AS group_subject,`,
    `       ${value} AS value, toString(count()) AS event_count, toString(${invalid}) AS invalid_value_count`,
    'FROM events_raw FINAL',
    `WHERE ${where.join('\n  AND ')}`,
    'GROUP BY window_start, group_subject',
    // Without this, grouping by constants alone yields one all-zero row for an empty range.
    'HAVING count() > 0',
    'ORDER BY window_start, group_subject',
  ].join('\n');
  return { query };
}

/** usage.query: events of one type in one namespace, counted or summed per window and subject. */
export async function queryUsage(reader: ClickHouseReader, params: UsageQuery): Promise<UsageResult> {
  const rows = await selectRows(reader, QUERY, usageStatement(params), usageSqlRow);
  let invalid = 0n;
  const out = rows.map((r) => {
    if (r.value === '') {
      throw new PolarisError('invalid_argument', 'sum_out_of_range', 'a sum reaches 1e21 or more; use smaller windows or group by subject', 'value_property');
    }
    invalid += BigInt(r.invalid_value_count);
    const startMs = params.windowSize === 'none' ? params.fromMs : r.window_start * 1000;
    const endMs = params.windowSize === 'none' ? params.toMs : startMs + WINDOWS[params.windowSize].ms;
    return { windowStartMs: startMs, windowEndMs: endMs, subject: r.group_subject, value: canonicalDecimal(r.value), eventCount: r.event_count };
  });
  return { rows: out, invalidValueCount: invalid.toString() };
}

/** "12.250000000" → "12.25", "3.000000000" → "3": the same text whatever the ClickHouse version. */
export function canonicalDecimal(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}
