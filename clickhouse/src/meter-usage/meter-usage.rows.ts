import { PolarisError } from '@polaris/shared/errors';
import Decimal from 'decimal.js';
import { z } from 'zod';
import { canonicalDecimalText } from '../decimal-text';
import type { MeterUsagePlan } from './meter-usage.params';

export interface MeterUsageRow {
  windowStartMs: number;
  windowEndMs: number;
  /** '' unless grouped by subject. */
  subject: string;
  /** The grouped dimensions only, by name. */
  dimensions: Record<string, string>;
  /**
   * Exact decimal text (counts as integers). Undefined when the window holds no valid value for
   * MIN, MAX, AVG and LATEST; SUM and UNIQUE_COUNT of no valid values are '0'.
   */
  value?: string;
  /** Events of the meter's type in the window and group, valid or not. */
  eventCount: string;
  /** Of those, events whose value, key or dimension could not be read (never aggregated). */
  invalidCount: string;
}

export interface MeterUsageResult {
  rows: MeterUsageRow[];
  /** invalidCount over all rows. */
  invalidCount: string;
}

const countText = z.string().regex(/^\d+$/, 'must be a count as text');

/** A row as meterUsageSelect returns it (JSONEachRow), on 18.16 and on current ClickHouse alike. */
export const meterUsageSqlRow = z.object({
  /** toUnixTimestamp is a UInt32, a JSON number on every version; 0 for no windows. */
  zone_window: z.number().int().nonnegative(),
  group_subject: z.string(),
  group_dims: z.array(z.string()).optional(),
  /** Decimal or integer text; '' when a sum is out of range. */
  value: z.string(),
  events: countText,
  valid_events: countText,
});
type MeterUsageSqlRow = z.infer<typeof meterUsageSqlRow>;

/**
 * AVG = sum / valid events, to 9 fractional digits (Decimal128(9), as every other value), rounded
 * half to even. A private decimal.js: the sum has at most 38 digits and the count 20, so 80
 * significant digits hold the quotient far past the 9th decimal, and the one rounding that
 * matters is toFixed's (no double rounding onto a tie).
 */
const AverageDecimal = Decimal.clone({ precision: 80, rounding: Decimal.ROUND_HALF_EVEN });
export function averageText(sum: string, validEvents: string): string {
  return canonicalDecimalText(new AverageDecimal(sum).div(validEvents).toFixed(9, Decimal.ROUND_HALF_EVEN));
}

function sumOutOfRange(): PolarisError {
  return new PolarisError('invalid_argument', 'sum_out_of_range', 'a sum reaches 1e21 or more, beyond what can be answered exactly; use smaller windows or group by subject');
}

function valueOf(plan: MeterUsagePlan, r: MeterUsageSqlRow): string | undefined {
  switch (plan.params.aggregation) {
    case 'COUNT':
    case 'UNIQUE_COUNT':
      return r.value;
    case 'SUM':
      if (r.value === '') throw sumOutOfRange();
      return canonicalDecimalText(r.value);
    case 'AVG':
      if (r.value === '') throw sumOutOfRange();
      return r.valid_events === '0' ? undefined : averageText(r.value, r.valid_events);
    case 'MIN':
    case 'MAX':
    case 'LATEST':
      // With no valid value, the -If state answers the type's default (0): not a value.
      return r.valid_events === '0' ? undefined : canonicalDecimalText(r.value);
  }
}

/**
 * The answer from the SQL rows. Each window start must be one of the windows computed in TS:
 * ClickHouse groups rows with its own zone functions and tzdata, and if they ever disagree with
 * Node's (another tzdata release, a zone with a half-hour DST shift) the answer fails loudly
 * instead of mislabelling usage.
 */
export function meterUsageResult(plan: MeterUsagePlan, rows: readonly MeterUsageSqlRow[]): MeterUsageResult {
  const { params, windows } = plan;
  let invalidTotal = 0n;
  const out = rows.map((r): MeterUsageRow => {
    const startMs = params.windowSize === 'none' ? params.fromMs : r.zone_window * 1000;
    const endMs = windows.get(startMs);
    if (endMs === undefined) {
      throw new Error(`meter usage: ClickHouse grouped a window at ${new Date(startMs).toISOString()} that is not a ${params.windowSize} of ${plan.timeZone} by Node's tzdata`);
    }
    const invalidCount = BigInt(r.events) - BigInt(r.valid_events);
    invalidTotal += invalidCount;
    const value = valueOf(plan, r);
    return {
      windowStartMs: startMs,
      windowEndMs: endMs,
      subject: r.group_subject,
      dimensions: Object.fromEntries(params.groupByDimensions.map((d, i) => [d.name, r.group_dims?.[i] ?? ''])),
      ...(value === undefined ? {} : { value }),
      eventCount: r.events,
      invalidCount: invalidCount.toString(),
    };
  });
  return { rows: out, invalidCount: invalidTotal.toString() };
}
