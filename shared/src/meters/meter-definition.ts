/**
 * What a meter measures (docs/meters.md, "Meter definition"), and the one check every entry point
 * applies before a definition is stored or extracted with. Errors name the field as the proto
 * spells it (`value_path`, `dimensions[2].name`), so an API client can point at its own input.
 */

import { z } from 'zod';
import { PolarisError } from '../errors';
import { formatJsonPath, parseJsonPath, type PathSegment } from './json-path';

export const METER_AGGREGATIONS = ['SUM', 'COUNT', 'UNIQUE_COUNT', 'MIN', 'MAX', 'AVG', 'LATEST'] as const;
export type MeterAggregation = (typeof METER_AGGREGATIONS)[number];
export const MAX_METER_DIMENSIONS = 8;
/** Longest event type, as the collector accepts it (cloudevent.ts, `type`). */
export const MAX_EVENT_TYPE_LENGTH = 256;

export interface MeterDimension {
  name: string;
  path: string;
}

export interface MeterDefinition {
  eventType: string;
  aggregation: MeterAggregation;
  valuePath?: string;
  uniquePath?: string;
  dimensions: MeterDimension[];
}

/** Aggregations that read a number at value_path; COUNT and UNIQUE_COUNT read none. */
export const VALUE_AGGREGATIONS: ReadonlySet<MeterAggregation> = new Set(['SUM', 'MIN', 'MAX', 'AVG', 'LATEST']);

/** A meter slug and a dimension name: what users type in queries, so short and plain. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const NAME_RULE = '1 to 63 characters: a lowercase letter, then lowercase letters, digits or _';
/** The collector's rule for a CloudEvents `type` (cloudevent.ts): a meter on any other type would never count anything. */
const EVENT_TYPE = /^[A-Za-z0-9._:/-]+$/;

function invalidArgument(code: string, field: string, reason: string): PolarisError {
  return new PolarisError('invalid_argument', code, `${field} ${reason}`, field);
}

/**
 * A path a meter may read: the subset, and at least one step. Event data is always an object, so
 * `$` alone could never be a number, a key or a dimension value.
 */
function parseMeterPath(path: string, field: string): PathSegment[] {
  const segments = parseJsonPath(path, field);
  if (segments.length === 0) throw invalidArgument('invalid_path', field, 'must name a property of the data, e.g. $.tokens ($ alone is the whole data object)');
  return segments;
}

export function checkMeterSlug(slug: unknown): string {
  if (typeof slug !== 'string' || !NAME.test(slug)) {
    throw invalidArgument('invalid_slug', 'slug', `must be ${NAME_RULE} (e.g. llm_input_tokens)`);
  }
  return slug;
}

/** proto3 sends an unset string as '': both mean "no path". */
const optionalPath = z
  .string({ error: 'must be a string' })
  .nullish()
  .transform((path) => (path ? path : undefined));

const definitionSchema = z.object(
  {
    eventType: z
      .string({ error: (issue) => `${issue.input === undefined ? 'is required' : 'must be a string'}: the CloudEvents type to count, e.g. llm.completion` })
      .min(1, 'must not be empty: name the CloudEvents type to count, e.g. llm.completion')
      .max(MAX_EVENT_TYPE_LENGTH, `must be at most ${MAX_EVENT_TYPE_LENGTH} characters`)
      .regex(EVENT_TYPE, 'may contain only letters, digits and . _ : / - (as event types do)'),
    aggregation: z.enum(METER_AGGREGATIONS, { error: `must be one of ${METER_AGGREGATIONS.join(', ')}` }),
    valuePath: optionalPath,
    uniquePath: optionalPath,
    dimensions: z
      .array(
        z.object(
          {
            name: z
              .string({ error: (issue) => `${issue.input === undefined ? 'is required' : 'must be a string'} (${NAME_RULE}, e.g. model)` })
              .regex(NAME, `must be ${NAME_RULE} (e.g. model)`),
            path: z.string({ error: (issue) => `${issue.input === undefined ? 'is required' : 'must be a string'}: the path of the value to group by, e.g. $.model` }),
          },
          { error: 'must be an object with a name and a path' },
        ),
        { error: 'must be a list of { name, path }' },
      )
      .max(MAX_METER_DIMENSIONS, `must have at most ${MAX_METER_DIMENSIONS} entries`)
      .nullish()
      .transform((dimensions) => dimensions ?? []),
  },
  { error: 'must be an object: an event type, an aggregation and, as the aggregation needs, a value path, a unique path and dimensions' },
);

const SNAKE_CASE: Record<string, string> = { eventType: 'event_type', valuePath: 'value_path', uniquePath: 'unique_path' };

/** A zod issue path as the proto names the field: `['dimensions', 2, 'name']` → `dimensions[2].name`. */
function fieldOf(path: readonly PropertyKey[]): string {
  let field = '';
  for (const step of path) {
    if (typeof step === 'number') field += `[${step}]`;
    else field += `${field ? '.' : ''}${SNAKE_CASE[String(step)] ?? String(step)}`;
  }
  return field || 'definition';
}

function codeOf(path: readonly PropertyKey[], issueCode: string): string {
  const [top, , leaf] = path;
  if (top === 'eventType') return 'invalid_event_type';
  if (top === 'aggregation') return 'invalid_aggregation';
  if (top === 'valuePath' || top === 'uniquePath') return 'invalid_path';
  if (top === 'dimensions') {
    if (path.length === 1 && issueCode === 'too_big') return 'too_many_dimensions';
    if (leaf === 'name') return 'invalid_dimension_name';
    if (leaf === 'path') return 'invalid_path';
  }
  return 'invalid_meter_definition';
}

/**
 * A definition as received (camelCase, as the TS interface; `''` or null for an unset path, as
 * proto3 sends it), checked: the shape, the event type, the aggregation, which paths the
 * aggregation needs and refuses, every path's syntax, and the dimensions' count and names.
 * Returns it with unset paths as undefined and paths spelled as given (see canonicalDefinition).
 * Throws `invalid_argument` with the first problem's code and field.
 */
export function checkMeterDefinition(input: unknown): MeterDefinition {
  const parsed = definitionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    throw invalidArgument(codeOf(path, issue?.code ?? ''), fieldOf(path), issue?.message ?? 'is not a meter definition');
  }
  const { eventType, aggregation, valuePath, uniquePath, dimensions } = parsed.data;

  if (VALUE_AGGREGATIONS.has(aggregation)) {
    if (valuePath === undefined) {
      throw invalidArgument('missing_value_path', 'value_path', `is required for ${aggregation}: the path of the number to aggregate, e.g. $.tokens`);
    }
    parseMeterPath(valuePath, 'value_path');
  } else if (valuePath !== undefined) {
    throw invalidArgument('unexpected_value_path', 'value_path', `must be unset for ${aggregation}, which reads no value${aggregation === 'UNIQUE_COUNT' ? ' (set unique_path instead)' : ''}`);
  }

  if (aggregation === 'UNIQUE_COUNT') {
    if (uniquePath === undefined) {
      throw invalidArgument('missing_unique_path', 'unique_path', 'is required for UNIQUE_COUNT: the path of the key to count once, e.g. $.user_id');
    }
    parseMeterPath(uniquePath, 'unique_path');
  } else if (uniquePath !== undefined) {
    throw invalidArgument('unexpected_unique_path', 'unique_path', `must be unset for ${aggregation}; only UNIQUE_COUNT reads a unique key`);
  }

  const seen = new Set<string>();
  dimensions.forEach((dimension, i) => {
    if (seen.has(dimension.name)) {
      throw invalidArgument('duplicate_dimension', `dimensions[${i}].name`, `repeats the dimension name "${dimension.name}"; each name must be unique`);
    }
    seen.add(dimension.name);
    parseMeterPath(dimension.path, `dimensions[${i}].path`);
  });

  return {
    eventType,
    aggregation,
    ...(valuePath === undefined ? {} : { valuePath }),
    ...(uniquePath === undefined ? {} : { uniquePath }),
    dimensions: dimensions.map(({ name, path }) => ({ name, path })),
  };
}

const canonicalPath = (path: string, field: string): string => formatJsonPath(parseJsonPath(path, field));

/**
 * The definition with every path in its one canonical spelling (`$['a']` and `$["a"]` become
 * `$.a`), so two definitions that read the same places compare equal. Takes a checked definition.
 */
export function canonicalDefinition(definition: MeterDefinition): MeterDefinition {
  const { eventType, aggregation, valuePath, uniquePath, dimensions } = definition;
  return {
    eventType,
    aggregation,
    // '' is how proto3 spells an unset path.
    ...(valuePath ? { valuePath: canonicalPath(valuePath, 'value_path') } : {}),
    ...(uniquePath ? { uniquePath: canonicalPath(uniquePath, 'unique_path') } : {}),
    dimensions: dimensions.map(({ name, path }, i) => ({ name, path: canonicalPath(path, `dimensions[${i}].path`) })),
  };
}

/**
 * True when `a` and `b` measure the same thing, so a change from one to the other needs no new
 * version: same event type and aggregation, the same paths once canonical, and the same
 * dimensions in the same order (ClickHouse stores dimension values by position, and a name is
 * what queries group by). Takes checked definitions.
 */
export function definitionsMeasureTheSame(a: MeterDefinition, b: MeterDefinition): boolean {
  const ca = canonicalDefinition(a);
  const cb = canonicalDefinition(b);
  return (
    ca.eventType === cb.eventType &&
    ca.aggregation === cb.aggregation &&
    ca.valuePath === cb.valuePath &&
    ca.uniquePath === cb.uniquePath &&
    ca.dimensions.length === cb.dimensions.length &&
    ca.dimensions.every((dimension, i) => dimension.name === cb.dimensions[i]?.name && dimension.path === cb.dimensions[i]?.path)
  );
}
