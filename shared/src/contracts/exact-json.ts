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

/** `JSON.parse` with `exactNumbers`. */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, exactNumbers as (this: unknown, key: string, value: unknown) => unknown);
}
