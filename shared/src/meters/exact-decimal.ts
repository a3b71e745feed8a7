/**
 * Meter values as exact decimal text for ClickHouse `Decimal128(9)` (docs/meters.md, "What a
 * value is"). A value arrives as a JSON number, parsed by `parseJsonExact` (a JS number that
 * prints exactly as the client wrote it, or a `JSON.rawJSON` holding the literal text), or as a
 * string holding a JSON number literal. Either way the digits are handled as text by decimal.js:
 * no binary float ever stands between the client's digits and the stored value.
 */

import Decimal from 'decimal.js';
import { isRawJsonNumber, type RawJsonNumber } from '../contracts/exact-json';

/** Decimal128(9): 38 significant digits, 9 of them after the point. */
export const DECIMAL_INTEGER_DIGITS = 20;
export const DECIMAL_FRACTION_DIGITS = 9;

/**
 * A private constructor so no other code's Decimal settings leak in. No arithmetic happens here
 * (construction and printing never round), but the precision covers any Decimal128 value anyway.
 * The exponent limits are decimal.js's widest: beyond them it gives Infinity or 0, both caught.
 * toExpNeg/toExpPos are JavaScript's own switch to exponent notation, so `toString` spells a
 * number the way `String(number)` does.
 */
const ExactDecimal = Decimal.clone({ precision: 64, toExpNeg: -7, toExpPos: 21, minE: -9e15, maxE: 9e15 });

/** RFC 8259's number grammar: no `+`, no leading zeros, no bare `.5`, no whitespace, no hex. */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
/** A nonzero digit before any exponent: the literal is not zero, whatever decimal.js makes of it. */
const NONZERO_MANTISSA = /^[^eE]*[1-9]/;

export type ExactDecimalResult = { ok: true; decimal: string } | { ok: false; reason: string };

const invalid = (reason: string): ExactDecimalResult => ({ ok: false, reason });
// Constant results, so refusing a value allocates nothing.
const MISSING = invalid('is missing');
const NULL = invalid('is null');
const BOOLEAN = invalid('is a boolean, not a number');
const OBJECT = invalid('is an object, not a number');
const ARRAY = invalid('is an array, not a number');
const NOT_A_LITERAL = invalid('is a string that is not a JSON number (e.g. "12.5")');
const NOT_FINITE = invalid('is not a finite number');
const TOO_MANY_INTEGER_DIGITS = invalid(`has more than ${DECIMAL_INTEGER_DIGITS} integer digits`);
const TOO_MANY_FRACTION_DIGITS = invalid(`has more than ${DECIMAL_FRACTION_DIGITS} fractional digits`);
const ZERO: ExactDecimalResult = { ok: true, decimal: '0' };

export function isJsonNumberLiteral(text: string): boolean {
  return JSON_NUMBER.test(text);
}

/**
 * Canonical decimal text of a meter value (no exponent, no trailing zeros, no `-0`), or why it is
 * not one: missing, null, not a number, or outside Decimal128(9) once the exponent is applied
 * (`1.5e3` is `1500`; `1e21` and `0.1234567891` are refused, never rounded).
 */
export function toExactDecimal(value: unknown): ExactDecimalResult {
  if (typeof value === 'number') {
    // The common case, a small integer, needs no parsing (String(-0) is already '0').
    if (Number.isSafeInteger(value)) return { ok: true, decimal: String(value) };
    if (!Number.isFinite(value)) return NOT_FINITE;
    return fromLiteral(String(value));
  }
  if (typeof value === 'string') return JSON_NUMBER.test(value) ? fromLiteral(value) : NOT_A_LITERAL;
  if (value === undefined) return MISSING;
  if (value === null) return NULL;
  if (typeof value === 'boolean') return BOOLEAN;
  if (isRawJsonNumber(value)) return fromLiteral(value.rawJSON);
  return Array.isArray(value) ? ARRAY : OBJECT;
}

/** `text` is a JSON number literal (checked by the caller, or printed by JavaScript). */
function fromLiteral(text: string): ExactDecimalResult {
  const plain = plainDecimal(text);
  if (plain !== undefined) return plain;
  const d = new ExactDecimal(text);
  if (d.isZero()) {
    // decimal.js turns an exponent below minE into 0: a nonzero literal there has far too many
    // fractional digits, not the value 0.
    return NONZERO_MANTISSA.test(text) ? TOO_MANY_FRACTION_DIGITS : ZERO;
  }
  // Infinity: an exponent above maxE, so far too many integer digits as well.
  if (!d.isFinite() || d.e >= DECIMAL_INTEGER_DIGITS) return TOO_MANY_INTEGER_DIGITS;
  if (d.decimalPlaces() > DECIMAL_FRACTION_DIGITS) return TOO_MANY_FRACTION_DIGITS;
  return { ok: true, decimal: d.toFixed() };
}

/**
 * The literal when it is already canonical, which is what `String(number)` prints for nearly
 * every non-integer (`12.5`): no exponent, no leading or trailing zeros; else undefined and
 * decimal.js decides. Saves a Decimal per value on the hot path.
 */
function plainDecimal(text: string): ExactDecimalResult | undefined {
  if (/[eE]/.test(text)) return undefined;
  const negative = text[0] === '-';
  const point = text.indexOf('.');
  const integerDigits = (point < 0 ? text.length : point) - (negative ? 1 : 0);
  if (integerDigits > DECIMAL_INTEGER_DIGITS) return TOO_MANY_INTEGER_DIGITS;
  if (point >= 0) {
    // Trailing zeros (`1.50`, `0.1234567890`) or a zero value (`-0.0`) need normalising first.
    if (text.endsWith('0')) return undefined;
    if (text.length - point - 1 > DECIMAL_FRACTION_DIGITS) return TOO_MANY_FRACTION_DIGITS;
  } else if (text === '-0') {
    return ZERO;
  }
  return { ok: true, decimal: text };
}

/**
 * A JSON number as canonical text with no range limit, for unique keys and dimension values: the
 * same value gets the same text whether it arrived as a JS number or as exact text
 * (`1.50000000000000000` and `1.5` are both `1.5`), spelled the way `String(number)` spells it.
 * A literal beyond decimal.js's exponent range keeps its own spelling.
 */
export function canonicalNumberText(value: number | RawJsonNumber): string {
  if (typeof value === 'number') return String(value);
  const text = value.rawJSON;
  const d = new ExactDecimal(text);
  if (!d.isFinite() || (d.isZero() && NONZERO_MANTISSA.test(text))) return text;
  return d.isZero() ? '0' : d.toString();
}
