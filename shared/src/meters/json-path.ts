/**
 * The JSONPath subset meters read event data with (docs/meters.md, "Paths"): `$` followed by
 * `.ident`, `["key"]` / `['key']` or `[n]` steps, nothing else. A path names exactly one place:
 * no recursive descent, wildcards, filters, slices or negative indexes, so a value can never be
 * found somewhere the meter's author did not mean (`$.tokens` of `{"meta":{"tokens":1000},
 * "tokens":5}` is 5). Paths are written by tenants and end up in the catalog every sink reads, so
 * the parser is strict and bounded, and every refusal says where and what to write instead.
 */

import { PolarisError } from '../errors';
import { isWellFormedUnicode } from '../contracts/json-limits';
import { isRawJsonNumber } from '../contracts/exact-json';

export type PathSegment = { key: string } | { index: number };

export const MAX_PATH_BYTES = 512;
export const MAX_PATH_SEGMENTS = 32;
/** Event data is at most 64 KiB, so no real array gets near this; it keeps indexes exact integers. */
export const MAX_PATH_INDEX = 999_999_999;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
/** C0 and C1 control characters (and DEL): never part of a key anyone means to write. */
const CONTROL = /\p{Cc}/u;

const HOW_TO_WRITE = 'a path is $ followed by .name, ["key"] or [index] steps, e.g. $.usage.input_tokens';

function invalidPath(field: string, reason: string): PolarisError {
  return new PolarisError('invalid_argument', 'invalid_path', `${field} ${reason}`, field);
}

/** The character at a position, quoted so control or odd characters stay readable in a message. */
function quoted(ch: string | undefined): string {
  return ch === undefined ? 'the end of the path' : JSON.stringify(ch);
}

/**
 * Parses a path of the subset. `field` names the input in the error (`value_path`,
 * `dimensions[2].path`). Throws `invalid_argument`/`invalid_path` for anything outside the subset.
 */
export function parseJsonPath(path: string, field = 'path'): PathSegment[] {
  if (typeof path !== 'string') throw invalidPath(field, `must be a string; ${HOW_TO_WRITE}`);
  if (path === '') throw invalidPath(field, `must not be empty; ${HOW_TO_WRITE}`);
  // The length test first, so a 10 kB path costs nothing more than this comparison.
  if (path.length > MAX_PATH_BYTES || Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) {
    throw invalidPath(field, `must be at most ${MAX_PATH_BYTES} bytes (UTF-8)`);
  }
  if (CONTROL.test(path)) throw invalidPath(field, 'must not contain control characters (tabs, newlines, NUL, …)');
  if (!isWellFormedUnicode(path)) throw invalidPath(field, 'is not well-formed Unicode (it contains a lone surrogate)');
  if (path[0] !== '$') throw invalidPath(field, `must start with $ (the event's data); ${HOW_TO_WRITE}`);

  const segments: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const at = `at character ${i + 1}`;
    const ch = path[i];
    if (ch === '.') {
      if (path[i + 1] === '.') throw invalidPath(field, `uses recursive descent (..) ${at}, which is not supported; write the exact path, e.g. $.usage.input_tokens`);
      if (path[i + 1] === '*') throw invalidPath(field, `uses a wildcard (*) ${at}, which is not supported; name one property`);
      const start = i + 1;
      if (!IDENT_START.test(path[start] ?? '')) {
        throw invalidPath(field, `needs a name after "." ${at} (a letter or _ first, then letters, digits or _); write ["key"] for any other key`);
      }
      let end = start + 1;
      while (end < path.length && IDENT_PART.test(path[end] as string)) end++;
      segments.push({ key: path.slice(start, end) });
      i = end;
    } else if (ch === '[') {
      const next = path[i + 1];
      if (next === '"' || next === "'") {
        i = readQuotedKey(path, i + 1, field, segments);
      } else if (next !== undefined && DIGIT.test(next)) {
        i = readIndex(path, i + 1, field, segments);
      } else if (next === '-') {
        throw invalidPath(field, `has a negative index ${at}, which is not supported; count from the start: [0], [1], …`);
      } else if (next === '*') {
        throw invalidPath(field, `uses a wildcard ([*]) ${at}, which is not supported; name one element, e.g. [0]`);
      } else if (next === '?') {
        throw invalidPath(field, `uses a filter ([?…]) ${at}, which is not supported; name one property or element`);
      } else {
        throw invalidPath(field, `needs "key", 'key' or an index after "[" ${at}, found ${quoted(next)}`);
      }
    } else if (ch === '*') {
      throw invalidPath(field, `uses a wildcard (*) ${at}, which is not supported; name one property`);
    } else {
      throw invalidPath(field, `has ${quoted(ch)} ${at} where a step (.name, ["key"] or [index]) must start; ${HOW_TO_WRITE}`);
    }
    if (segments.length > MAX_PATH_SEGMENTS) throw invalidPath(field, `must have at most ${MAX_PATH_SEGMENTS} steps`);
  }
  return segments;
}

/** Reads `"…"` or `'…'` starting at the quote, then the closing `]`; returns the index after it. */
function readQuotedKey(path: string, quoteAt: number, field: string, segments: PathSegment[]): number {
  const quote = path[quoteAt];
  let key = '';
  let i = quoteAt + 1;
  for (;;) {
    const ch = path[i];
    if (ch === undefined) {
      throw invalidPath(field, `has a quoted key opened at character ${quoteAt + 1} and never closed; end it with ${quote}]`);
    }
    if (ch === quote) break;
    if (ch === '\\') {
      const escaped = path[i + 1];
      if (escaped !== '"' && escaped !== "'" && escaped !== '\\') {
        throw invalidPath(field, `has an unsupported escape \\${escaped ?? ''} at character ${i + 1}; inside quotes only \\" \\' and \\\\ are escapes`);
      }
      key += escaped;
      i += 2;
      continue;
    }
    key += ch;
    i++;
  }
  if (path[i + 1] !== ']') {
    throw invalidPath(field, `needs "]" at character ${i + 2} to close the key opened at character ${quoteAt + 1}, found ${quoted(path[i + 1])}`);
  }
  segments.push({ key });
  return i + 2;
}

/** Reads the digits of `[n]` starting at the first digit, then `]`; returns the index after it. */
function readIndex(path: string, digitsAt: number, field: string, segments: PathSegment[]): number {
  let end = digitsAt;
  while (end < path.length && DIGIT.test(path[end] as string)) end++;
  const digits = path.slice(digitsAt, end);
  if (digits.length > 1 && digits[0] === '0') {
    throw invalidPath(field, `has an index with a leading zero at character ${digitsAt + 1}; write [${digits.replace(/^0+(?=\d)/, '')}]`);
  }
  if (digits.length > String(MAX_PATH_INDEX).length) throw invalidPath(field, `has an index over ${MAX_PATH_INDEX} at character ${digitsAt + 1}`);
  if (path[end] !== ']') {
    throw invalidPath(field, `needs "]" at character ${end + 1} after the index ${digits}, found ${quoted(path[end])} (slices and unions are not supported)`);
  }
  segments.push({ index: Number(digits) });
  return end + 1;
}

/**
 * The one canonical spelling of a path: `.name` where the key is an identifier, else `["key"]`
 * with `"` and `\` escaped; `[n]` for indexes. `$['a']`, `$["a"]` and `$.a` all format as `$.a`.
 */
export function formatJsonPath(segments: readonly PathSegment[]): string {
  let text = '$';
  for (const segment of segments) {
    if ('index' in segment) text += `[${segment.index}]`;
    else if (IDENT.test(segment.key)) text += `.${segment.key}`;
    else text += `["${segment.key.replace(/["\\]/g, '\\$&')}"]`;
  }
  return text;
}

/**
 * The value at `segments` in a parsed JSON value, or `undefined` when any step is absent: a key
 * on a non-object, an index on a non-array or past its end. Only own properties are read, so
 * `$.constructor` or `$.__proto__` never reach Object.prototype, and an exact number
 * (`JSON.rawJSON`, exact-json.ts) is a scalar, not an object with a `rawJSON` key.
 */
export function readPath(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null) return undefined;
    if ('index' in segment) {
      if (!Array.isArray(current)) return undefined;
      current = current[segment.index];
    } else {
      if (Array.isArray(current) || !Object.hasOwn(current, segment.key)) return undefined;
      // A raw JSON number's only own key is `rawJSON`, so the native check runs only for that key.
      if (segment.key === 'rawJSON' && isRawJsonNumber(current)) return undefined;
      current = (current as Record<string, unknown>)[segment.key];
    }
  }
  return current;
}
