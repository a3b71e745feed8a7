/**
 * Exact decimal arithmetic on money and quantities held as text (docs/billing.md, "Money"). Every
 * value in and out is canonical decimal text: no exponent, no leading or trailing zeros, never
 * "-0". Money printed for an invoice has exactly the currency's minor digits instead.
 */

import Decimal from 'decimal.js';

/**
 * A private constructor so no other code's Decimal settings leak in. The precision is far beyond
 * any product here (a Decimal128 quantity of 38 digits times a price of 32), so no arithmetic in
 * this module ever rounds except where a rounding mode is named. The exponent thresholds keep
 * `toString` plain, though everything prints through `toFixed` anyway.
 */
export const BillingDecimal = Decimal.clone({
  precision: 500,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
  minE: -9e15,
  maxE: 9e15,
});
export type BillingDecimal = InstanceType<typeof BillingDecimal>;

/** Plain decimal text: an optional minus, digits, optionally a point and more digits. */
const DECIMAL_TEXT = /^-?[0-9]+(?:\.[0-9]+)?$/;

export function isDecimalText(text: unknown): text is string {
  return typeof text === 'string' && DECIMAL_TEXT.test(text);
}

/**
 * Decimal text the program itself produced (a stored price, a ClickHouse value): anything else is
 * a bug upstream, not a user's mistake, so it throws a plain Error.
 */
export function toDecimal(text: string, what = 'value'): BillingDecimal {
  if (!isDecimalText(text)) throw new Error(`billing: ${what} ${JSON.stringify(text)} is not decimal text`);
  return new BillingDecimal(text);
}

/** Canonical text: `1.50` → `1.5`, `-0` → `0`, never an exponent. */
export function canonical(d: BillingDecimal): string {
  return d.isZero() ? '0' : d.toFixed();
}

export function canonicalDecimal(text: string): string {
  return canonical(toDecimal(text));
}

export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  return toDecimal(a).comparedTo(toDecimal(b)) as -1 | 0 | 1;
}

export function addQuantity(a: string, b: string): string {
  return canonical(toDecimal(a, 'quantity').plus(toDecimal(b, 'quantity')));
}

export function subtractQuantity(a: string, b: string): string {
  return canonical(toDecimal(a, 'quantity').minus(toDecimal(b, 'quantity')));
}

/** ISO 4217 has no currency with more than 4 minor digits; 12 leaves room, anything else is a bug. */
function checkMinorUnits(minorUnits: number): void {
  if (!Number.isInteger(minorUnits) || minorUnits < 0 || minorUnits > 12) {
    throw new Error(`billing: minor units must be an integer from 0 to 12, got ${minorUnits}`);
  }
}

/** Exactly `minorUnits` fraction digits (`12.50`, JPY `1200`), never `-0.00`. */
function formatMoney(d: BillingDecimal, minorUnits: number): string {
  return (d.isZero() ? new BillingDecimal(0) : d).toFixed(minorUnits);
}

/**
 * The one rounding rule: half to even, to the currency's minor unit (0.125 → 0.12, 0.135 → 0.14).
 * Applied once per line; over many lines it is unbiased, which half-up is not.
 */
export function roundMoney(exact: string, minorUnits: number): string {
  checkMinorUnits(minorUnits);
  return formatMoney(toDecimal(exact, 'amount').toDecimalPlaces(minorUnits, BillingDecimal.ROUND_HALF_EVEN), minorUnits);
}

/**
 * Money that is already rounded: one with more digits than the currency has would mean an
 * unrounded line reached a total, so it throws rather than rounding it silently.
 */
function roundedMoney(text: string, minorUnits: number): BillingDecimal {
  const d = toDecimal(text, 'amount');
  if (d.decimalPlaces() > minorUnits) {
    throw new Error(`billing: amount ${text} has more than the currency's ${minorUnits} minor digits: round it first (roundMoney)`);
  }
  return d;
}

/** The exact sum of rounded amounts, with the currency's digits (an empty list sums to zero). */
export function addMoney(amounts: readonly string[], minorUnits: number): string {
  checkMinorUnits(minorUnits);
  let sum = new BillingDecimal(0);
  for (const amount of amounts) sum = sum.plus(roundedMoney(amount, minorUnits));
  return formatMoney(sum, minorUnits);
}

/** `a − b` of rounded amounts, with the currency's digits; negative is a credit. */
export function subtractMoney(a: string, b: string, minorUnits: number): string {
  checkMinorUnits(minorUnits);
  return formatMoney(roundedMoney(a, minorUnits).minus(roundedMoney(b, minorUnits)), minorUnits);
}
