/**
 * THE extractor: what one event contributes to one meter version (docs/meters.md, "What a value
 * is"). The sink runs it for every live event and every backfill reads through it, so a value is
 * extracted the same way whichever path counts the event. It runs once per event per meter: paths
 * are parsed once by compileMeter, and extraction allocates little beyond its result.
 */

import { isRawJsonNumber } from '../contracts/exact-json';
import { canonicalNumberText, toExactDecimal } from './exact-decimal';
import { formatJsonPath, parseJsonPath, readPath, type PathSegment } from './json-path';
import { checkMeterDefinition, VALUE_AGGREGATIONS, type MeterAggregation, type MeterDefinition } from './meter-definition';

/** Longest dimension value, in UTF-8 bytes: a group-by label, not a payload. */
export const MAX_DIMENSION_VALUE_BYTES = 256;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit, so a string this short needs no byte count. */
const SHORT_ENOUGH_UNITS = Math.floor(MAX_DIMENSION_VALUE_BYTES / 3);

export interface MeterExtraction {
  valid: boolean;
  /** Canonical decimal text; '0' when invalid or COUNT. */
  value: string;
  /** '' unless UNIQUE_COUNT; typed: `s:…`, `n:…`, `b:true`. */
  uniqueKey: string;
  /** One per definition dimension, in order. */
  dimensions: string[];
  invalidReason?: string;
}

interface CompiledPath {
  readonly segments: readonly PathSegment[];
  /** Names the path in an invalid reason: `value_path $.tokens`, `dimension model ($.model)`. */
  readonly label: string;
}

/** A checked definition with its paths parsed, built once per meter version. */
export interface CompiledMeter {
  readonly definition: MeterDefinition;
  readonly aggregation: MeterAggregation;
  /** Set for SUM, MIN, MAX, AVG, LATEST. */
  readonly value?: CompiledPath;
  /** Set for UNIQUE_COUNT. */
  readonly unique?: CompiledPath;
  readonly dimensions: readonly CompiledPath[];
}

function compilePath(path: string, field: string, label: (canonical: string) => string): CompiledPath {
  const segments = parseJsonPath(path, field);
  return { segments, label: label(formatJsonPath(segments)) };
}

/** Checks the definition (throws as checkMeterDefinition does) and parses its paths once. */
export function compileMeter(def: MeterDefinition): CompiledMeter {
  const definition = checkMeterDefinition(def);
  const { aggregation, valuePath, uniquePath, dimensions } = definition;
  return {
    definition,
    aggregation,
    ...(VALUE_AGGREGATIONS.has(aggregation) && valuePath !== undefined ? { value: compilePath(valuePath, 'value_path', (p) => `value_path ${p}`) } : {}),
    ...(aggregation === 'UNIQUE_COUNT' && uniquePath !== undefined ? { unique: compilePath(uniquePath, 'unique_path', (p) => `unique_path ${p}`) } : {}),
    dimensions: dimensions.map((dimension, i) => compilePath(dimension.path, `dimensions[${i}].path`, (p) => `dimension ${dimension.name} (${p})`)),
  };
}

/**
 * What `data` (the event's data as parseJsonExact parsed it: any JSON, or undefined) gives this
 * meter. An invalid event still carries its readable dimensions, so invalid counts can be broken
 * down like valid ones. COUNT has no invalid events: a dimension it cannot store becomes ''.
 */
export function extractMeter(meter: CompiledMeter, data: unknown): MeterExtraction {
  let invalidReason: string | undefined;
  let value = '0';
  let uniqueKey = '';

  if (meter.value) {
    const result = toExactDecimal(readPath(data, meter.value.segments));
    if (result.ok) value = result.decimal;
    else invalidReason = `${meter.value.label} ${result.reason}`;
  } else if (meter.unique) {
    const key = uniqueKeyOf(readPath(data, meter.unique.segments));
    if (typeof key === 'string') uniqueKey = key;
    else invalidReason = `${meter.unique.label} ${key.refused}`;
  }

  const dimensions: string[] = [];
  for (const dimension of meter.dimensions) {
    const text = dimensionText(readPath(data, dimension.segments));
    if (typeof text === 'string') {
      dimensions.push(text);
      continue;
    }
    dimensions.push('');
    if (meter.aggregation !== 'COUNT') invalidReason ??= `${dimension.label} ${text.refused}`;
  }

  return invalidReason === undefined
    ? { valid: true, value, uniqueKey, dimensions }
    : { valid: false, value: '0', uniqueKey: '', dimensions, invalidReason };
}

/** Why a key or dimension value cannot be stored; constants, so a refusal allocates nothing. */
interface Refusal {
  readonly refused: string;
}
const refusal = (refused: string): Refusal => ({ refused });
const MISSING = refusal('is missing');
const NULL = refusal('is null');
const NOT_FINITE = refusal('is not a finite number');
const KEY_IS_ARRAY = refusal('is an array; a unique key must be a string, number or boolean');
const KEY_IS_OBJECT = refusal('is an object; a unique key must be a string, number or boolean');
const DIMENSION_IS_ARRAY = refusal('is an array; a dimension must be a string, number or boolean');
const DIMENSION_IS_OBJECT = refusal('is an object; a dimension must be a string, number or boolean');
const DIMENSION_TOO_LONG = refusal(`is longer than ${MAX_DIMENSION_VALUE_BYTES} bytes (UTF-8)`);

/** Typed so that "12" and 12 are different keys. */
function uniqueKeyOf(key: unknown): string | Refusal {
  switch (typeof key) {
    case 'string':
      return `s:${key}`;
    case 'number':
      return Number.isFinite(key) ? `n:${canonicalNumberText(key)}` : NOT_FINITE;
    case 'boolean':
      return key ? 'b:true' : 'b:false';
    case 'undefined':
      return MISSING;
    default:
      if (key === null) return NULL;
      if (isRawJsonNumber(key)) return `n:${canonicalNumberText(key)}`;
      return Array.isArray(key) ? KEY_IS_ARRAY : KEY_IS_OBJECT;
  }
}

/** A string as is, a number or boolean as JSON text, missing or null as ''. */
function dimensionText(raw: unknown): string | Refusal {
  let text: string;
  switch (typeof raw) {
    case 'string':
      text = raw;
      break;
    case 'number':
      if (!Number.isFinite(raw)) return NOT_FINITE;
      text = canonicalNumberText(raw);
      break;
    case 'boolean':
      return raw ? 'true' : 'false';
    case 'undefined':
      return '';
    default:
      if (raw === null) return '';
      if (!isRawJsonNumber(raw)) return Array.isArray(raw) ? DIMENSION_IS_ARRAY : DIMENSION_IS_OBJECT;
      text = canonicalNumberText(raw);
  }
  if (text.length > SHORT_ENOUGH_UNITS && Buffer.byteLength(text, 'utf8') > MAX_DIMENSION_VALUE_BYTES) return DIMENSION_TOO_LONG;
  return text;
}
