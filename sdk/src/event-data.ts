import { InvalidEventError } from './errors.js';

/**
 * The collector's limits on `data`, checked at `track` so a mistake is thrown where it is made
 * rather than reported later from a background flush: `data` is depth 1 and every object or array
 * inside it adds one; at most 64 KiB of JSON; well-formed Unicode (ClickHouse refuses lone
 * surrogates); finite numbers (JSON has no Infinity: JSON.stringify would send null).
 */
export const MAX_DATA_DEPTH = 32;
export const MAX_DATA_BYTES = 64 * 1024;

const LONE_SURROGATE = /\p{Surrogate}/u;
const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

interface Frame {
  value: unknown;
  depth: number;
  path: string;
}

const stepOf = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : PLAIN_KEY.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Walks `data` iteratively (a deep or self-referencing value cannot overflow the stack) and throws
 * InvalidEventError naming the first value the collector would refuse. Returns whether it holds a
 * bigint, which JSON.stringify cannot write on its own.
 */
function checkData(data: unknown): { hasBigInt: boolean } {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || !isPlainObject(data)) {
    throw new InvalidEventError('data', 'must be a plain JSON object, e.g. { tokens: 1200 }');
  }
  let hasBigInt = false;
  const stack: Frame[] = [{ value: data, depth: 1, path: 'data' }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const { value, depth, path } = frame;
    switch (typeof value) {
      case 'string':
        if (!isWellFormed(value)) throw new InvalidEventError(path, 'is not well-formed Unicode (it contains a lone surrogate)');
        continue;
      case 'number':
        if (!Number.isFinite(value)) throw new InvalidEventError(path, `must be a finite number, got ${value}`);
        continue;
      case 'bigint':
        hasBigInt = true;
        continue;
      case 'boolean':
      case 'undefined': // left out of objects, null in arrays: what JSON.stringify does
        continue;
      case 'function':
      case 'symbol':
        throw new InvalidEventError(path, `must be JSON, got a ${typeof value}`);
    }
    if (value === null) continue;
    const container = value as object;
    // A Date, or any value that says how it is written as JSON.
    if (typeof (container as { toJSON?: unknown }).toJSON === 'function') continue;
    if (depth > MAX_DATA_DEPTH) throw new InvalidEventError(path, `nests deeper than ${MAX_DATA_DEPTH} levels (or refers to itself)`);
    if (Array.isArray(container)) {
      container.forEach((item: unknown, i) => stack.push({ value: item, depth: depth + 1, path: stepOf(path, i) }));
      continue;
    }
    if (!isPlainObject(container)) {
      throw new InvalidEventError(path, `must be JSON (a plain object, array, string, number, bigint, boolean or null), got a ${container.constructor?.name ?? 'object'}`);
    }
    for (const [key, item] of Object.entries(container)) {
      if (!isWellFormed(key)) throw new InvalidEventError(stepOf(path, key), 'the key is not well-formed Unicode (it contains a lone surrogate)');
      stack.push({ value: item, depth: depth + 1, path: stepOf(path, key) });
    }
  }
  return { hasBigInt };
}

/** Bytes of `s` as UTF-8, without encoding it. */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    // 1 byte below 0x80, 2 below 0x800, 3 otherwise; a surrogate pair is 4 bytes for 2 units.
    if (unit >= 0x80) bytes += unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

let bigIntMarker: string | undefined;

/**
 * `data` as JSON text, checked. A bigint is written as an exact JSON integer
 * (`{ "tokens": 99999999999999999999 }`), which the collector stores as sent: JSON.stringify
 * cannot write one, so it writes a marker string that is then unquoted. The marker holds a random
 * UUID, so no string of yours can be mistaken for one.
 */
export function serializeData(data: unknown): string {
  const { hasBigInt } = checkData(data);
  let json: string;
  if (!hasBigInt) {
    json = JSON.stringify(data);
  } else {
    const marker = (bigIntMarker ??= `polaris-sdk-bigint-${globalThis.crypto.randomUUID()}:`);
    json = JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? `${marker}${value.toString()}` : value)).replace(
      new RegExp(`"${marker}(-?\\d+)"`, 'g'),
      '$1',
    );
  }
  const bytes = utf8Length(json);
  if (bytes > MAX_DATA_BYTES) throw new InvalidEventError('data', `must be at most ${MAX_DATA_BYTES} bytes of JSON, got ${bytes}`);
  return json;
}
