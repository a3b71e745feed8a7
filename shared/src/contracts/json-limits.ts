/**
 * Limits on parsed JSON that must hold before anything walks it recursively (JSON.stringify,
 * ClickHouse's parser): JSON.parse in V8 builds arbitrarily deep values without overflowing the
 * stack, but JSON.stringify and most recursive code do not, and ClickHouse refuses lone
 * surrogates. Everything here is iterative.
 */

import { approximateNumber, isRawJsonNumber } from './exact-json';

/**
 * Deepest `data` we accept. Depth counts containers: `data` itself is depth 1, and every object
 * or array nested inside adds one; strings, numbers, booleans and null add nothing. So
 * `{"a":1}` is 1, `{"a":{"b":1}}` is 2 and `{"a":[[1]]}` is 3. Usage data is flat in practice;
 * 32 also keeps every accepted event decodable over gRPC, whose Struct decoder (ts-proto) stops
 * at 100 nested messages, i.e. at object depth 33.
 */
export const MAX_DATA_DEPTH = 32;

/** Matches a lone (unpaired) UTF-16 surrogate: `!s.isWellFormed()` without needing the ES2024 lib. */
const LONE_SURROGATE = /\p{Surrogate}/u;

export function isWellFormedUnicode(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export const NOT_WELL_FORMED = 'is not well-formed Unicode (it contains a lone surrogate)';

export const NOT_FINITE = 'must be a finite number (e.g. 1e400 is too large for a 64-bit float)';

export interface JsonProblem {
  /** Where: `root` followed by `.key` or `[index]` steps; never contains a lone surrogate. */
  field: string;
  reason: string;
}

interface Frame {
  value: unknown;
  depth: number;
  parent?: Frame;
  step?: string | number;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** `data.foo.bar`, `data.items[2]`, `data["a b"]`; JSON.stringify escapes lone surrogates. */
function pathOf(frame: Frame, root: string): string {
  const steps: string[] = [];
  for (let f: Frame | undefined = frame; f?.step !== undefined; f = f.parent) {
    const { step } = f;
    steps.push(typeof step === 'number' ? `[${step}]` : PLAIN_KEY.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`);
  }
  return root + steps.reverse().join('');
}

/** A key quoted for a message, short, with lone surrogates escaped (`"k\udc00"`). */
function quoteKey(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

/**
 * First problem in a parsed JSON value, depth-first, or undefined: nesting deeper than
 * `maxDepth`, a key or string value that is not well-formed Unicode, or a non-finite number. Iterative with an
 * explicit stack, so any depth JSON.parse produced is safe to check.
 */
export function findJsonProblem(value: unknown, root: string, maxDepth: number): JsonProblem | undefined {
  const stack: Frame[] = [{ value, depth: 1 }];
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    const v = frame.value;
    if (typeof v === 'string') {
      if (!isWellFormedUnicode(v)) return { field: pathOf(frame, root), reason: NOT_WELL_FORMED };
      continue;
    }
    // JSON.parse turns 1e400 into Infinity, which JSON.stringify would then store as null.
    if (typeof v === 'number' && !Number.isFinite(v)) return { field: pathOf(frame, root), reason: NOT_FINITE };
    // A number kept as its exact text (exact-json.ts): a scalar, finite or not.
    if (isRawJsonNumber(v)) {
      if (!Number.isFinite(approximateNumber(v))) return { field: pathOf(frame, root), reason: NOT_FINITE };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (frame.depth > maxDepth) {
      return { field: root, reason: `must be nested at most ${maxDepth} levels deep (${root} itself is level 1; each object or array inside adds one)` };
    }
    const childDepth = frame.depth + 1;
    if (Array.isArray(v)) {
      // Pushed in reverse so problems are reported in document order.
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth: childDepth, parent: frame, step: i });
      continue;
    }
    const keys = Object.keys(v);
    for (const key of keys) {
      if (!isWellFormedUnicode(key)) {
        return { field: pathOf(frame, root), reason: `a key (${quoteKey(key)}) ${NOT_WELL_FORMED}` };
      }
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      stack.push({ value: (v as Record<string, unknown>)[key], depth: childDepth, parent: frame, step: key });
    }
  }
  return undefined;
}
