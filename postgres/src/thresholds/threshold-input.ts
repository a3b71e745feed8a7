import { canonicalDecimal, compareDecimal, isDecimalText } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';

// Checks of a threshold's terms before the database would refuse them by a constraint name
// (postgres/migrations/1700000000009_usage_thresholds.sql).

/** A percentage above this is almost certainly a typo (10x the included quantity). */
export const MAX_PERCENT = '1000';
/** Active thresholds per customer: evaluation reads each one every interval. */
export const MAX_THRESHOLDS_PER_CUSTOMER = 100;
/** Digits a limit may have on either side of the point (a Decimal128(9) meter value's range). */
const MAX_INTEGER_DIGITS = 29;
const MAX_FRACTION_DIGITS = 9;

const invalid = (field: string, code: string, message: string) => new PolarisError('invalid_argument', code, message, field);

function decimalText(value: string, field: string, code: string): string {
  const text = value.trim();
  if (!isDecimalText(text)) throw invalid(field, code, `${field} must be a decimal number such as 1000 or 12.5, not ${JSON.stringify(value.trim().slice(0, 40))}`);
  const [whole = '', fraction = ''] = text.replace(/^-/, '').split('.');
  if (whole.replace(/^0+/, '').length > MAX_INTEGER_DIGITS || fraction.replace(/0+$/, '').length > MAX_FRACTION_DIGITS) {
    throw invalid(field, code, `${field} must have at most ${MAX_INTEGER_DIGITS} digits before the point and ${MAX_FRACTION_DIGITS} after it`);
  }
  return canonicalDecimal(text);
}

/** An absolute limit: a decimal above 0. */
export function thresholdQuantity(value: string): string {
  const quantity = decimalText(value, 'quantity', 'invalid_quantity');
  if (compareDecimal(quantity, '0') <= 0) throw invalid('quantity', 'invalid_quantity', `quantity must be above 0, not ${quantity}`);
  return quantity;
}

/** A percentage of the included quantity: in (0, 1000]. */
export function thresholdPercent(value: string): string {
  const percent = decimalText(value, 'percent', 'invalid_percent');
  if (compareDecimal(percent, '0') <= 0 || compareDecimal(percent, MAX_PERCENT) > 0) {
    throw invalid('percent', 'invalid_percent', `percent must be above 0 and at most ${MAX_PERCENT}, not ${percent}`);
  }
  return percent;
}

/** Exactly one of quantity and percent, checked. */
export function thresholdTerms(input: { quantity?: string; percent?: string }): { kind: 'absolute'; quantity: string } | { kind: 'percent'; percent: string } {
  const quantity = input.quantity?.trim() ? input.quantity : undefined;
  const percent = input.percent?.trim() ? input.percent : undefined;
  if (quantity !== undefined && percent !== undefined) {
    throw invalid('percent', 'ambiguous_threshold', 'give either quantity (an absolute limit) or percent (of the plan’s included quantity), not both');
  }
  if (quantity !== undefined) return { kind: 'absolute', quantity: thresholdQuantity(quantity) };
  if (percent !== undefined) return { kind: 'percent', percent: thresholdPercent(percent) };
  throw invalid('quantity', 'missing_threshold', 'give quantity (an absolute limit) or percent (of the plan’s included quantity)');
}

export const isUuid = (value: string): boolean => z.guid().safeParse(value).success;

export const thresholdNotFound = (id: string): PolarisError =>
  new PolarisError('not_found', 'threshold_not_found', `no usage threshold with id ${JSON.stringify(id.slice(0, 64))} in this organization`, 'threshold_id');
