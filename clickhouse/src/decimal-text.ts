/**
 * Decimal128(9) values as text, both ways: what we send (JSONEachRow) and what we answer.
 * Quantities never pass through a binary float here.
 */

/**
 * A Decimal128(9) value as the extractor writes it (shared/src/meters, toExactDecimal): plain
 * digits, no exponent, at most 20 integer and 9 fractional digits. Also a valid JSON number
 * (no leading zeros), which `jsonDecimal` relies on.
 */
export const DECIMAL_128_9_TEXT = /^-?(?:0|[1-9][0-9]{0,19})(?:\.[0-9]{1,9})?$/;

interface RawJson {
  readonly rawJSON: string;
}
const rawJSON = (JSON as unknown as { rawJSON: (text: string) => RawJson }).rawJSON;

/**
 * A decimal for a JSONEachRow INSERT. ClickHouse 18.16 reads a Decimal only from a bare JSON
 * number (a quoted "1.5" is refused, inside an array too), and a JS number would round it, so
 * the text goes out as a raw JSON number (Node 24's JSON.rawJSON): `JSON.stringify`, which
 * @clickhouse/client uses, writes it digit for digit. `text` must match DECIMAL_128_9_TEXT.
 */
export function jsonDecimal(text: string): RawJson {
  return rawJSON(text);
}

/**
 * Decimal text as ClickHouse printed it, in the one spelling we answer with whatever the version:
 * 18.16 prints `3.500000000`, current ClickHouse `3.5`; both become `3.5`, and `-0.000` `0`.
 */
export function canonicalDecimalText(text: string): string {
  const trimmed = text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  return trimmed === '-0' ? '0' : trimmed;
}
