/**
 * JSON numbers exactly as the client wrote them. `JSON.parse` turns every number into a 64-bit
 * float, so `99999999999999999999` would be stored as `100000000000000000000` and
 * `0.1234567890123456789` rounded: a usage quantity changed on the way in, which no later
 * exact decimal arithmetic can undo. With Node 24's `JSON.parse` source text and `JSON.rawJSON`,
 * a number whose float does not print back as the same text is kept as that text, and
 * `JSON.stringify` writes it out unchanged. Numbers that round-trip stay plain numbers, so the
 * common case costs one comparison. (On a Node without these, numbers stay floats.)
 */

/** What `JSON.rawJSON` returns: a frozen, null-prototype object holding the original text. */
export interface RawJsonNumber {
  readonly rawJSON: string;
}

interface JsonWithSource {
  rawJSON?: (text: string) => RawJsonNumber;
  isRawJSON?: (value: unknown) => boolean;
}

const json = JSON as unknown as JsonWithSource;
const rawJSON = json.rawJSON;
const isRawJSONNative = json.isRawJSON;

export function isRawJsonNumber(value: unknown): value is RawJsonNumber {
  return isRawJSONNative !== undefined && isRawJSONNative(value);
}

/** The number's value as a float (for range checks only, never for arithmetic). */
export function approximateNumber(value: number | RawJsonNumber): number {
  return typeof value === 'number' ? value : Number(value.rawJSON);
}

/**
 * A `JSON.parse` reviver that keeps each number's exact text when its float would change it.
 * Pass it wherever client JSON is parsed (the collector's body, the sink's messages).
 */
export function exactNumbers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || rawJSON === undefined || context?.source === undefined) return value;
  return String(value) === context.source ? value : rawJSON(context.source);
}

/**
 * A float holds 15-17 significant digits, so only a number written with 16 or more digits (and
 * dots) can change; text without such a run (nearly all traffic) skips the reviver, which costs
 * a walk of every value. False positives (a long digit run inside a string) only take the slow
 * path.
 *
 * Any run of 16 such characters covers one index of every 16, so only every 16th character is
 * looked at, and a run only around a hit: ~0.1 µs for a 255-byte message, against ~1 µs for the
 * regex /\d[\d.]{15,}/ (which tried every digit as a start; a tenth of the sink's decoding).
 */
export function mayLosePrecision(text: string): boolean {
  for (let i = RUN - 1; i < text.length; i += RUN) {
    if (!isDigitOrDot(text.charCodeAt(i))) continue;
    let first = i;
    let last = i;
    while (first > 0 && isDigitOrDot(text.charCodeAt(first - 1))) first--;
    while (last + 1 < text.length && isDigitOrDot(text.charCodeAt(last + 1))) last++;
    if (last - first + 1 >= RUN) return true;
    // The next run starts after last + 1; a run of RUN there covers last + RUN.
    i = last;
  }
  return false;
}

const RUN = 16;
const isDigitOrDot = (c: number): boolean => (c >= 48 && c <= 57) || c === 46;

/**
 * `parsed` (the plain `JSON.parse` of `text`), with exact numbers where a float would have changed
 * one. The reviver walk recurses, so for JSON nested deeper than the stack allows it gives up and
 * returns `parsed`: the depth limit (json-limits.ts) refuses such input anyway.
 */
export function withExactNumbers(text: string, parsed: unknown): unknown {
  if (rawJSON === undefined || !mayLosePrecision(text)) return parsed;
  try {
    return JSON.parse(text, exactNumbers as (this: unknown, key: string, value: unknown) => unknown);
  } catch (err) {
    if (err instanceof RangeError) return parsed;
    throw err;
  }
}

/** `JSON.parse`, with exact numbers (see `withExactNumbers`). */
export function parseJsonExact(text: string): unknown {
  return withExactNumbers(text, JSON.parse(text));
}
