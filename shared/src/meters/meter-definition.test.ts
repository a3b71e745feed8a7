import { describe, expect, it } from 'vitest';
import { PolarisError } from '../errors';
import { normalizeCloudEvent } from '../contracts/cloudevent';
import {
  canonicalDefinition,
  checkMeterDefinition,
  checkMeterSlug,
  definitionsMeasureTheSame,
  MAX_METER_DIMENSIONS,
  METER_AGGREGATIONS,
  type MeterDefinition,
} from './meter-definition';

const SUM: MeterDefinition = {
  eventType: 'llm.completion',
  aggregation: 'SUM',
  valuePath: '$.usage.input_tokens',
  dimensions: [{ name: 'model', path: '$.model' }],
};

function refusalOf(check: () => unknown): PolarisError {
  try {
    check();
  } catch (err) {
    if (err instanceof PolarisError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const dimensions = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `d${i}`, path: `$.d${i}` }));

describe('checkMeterDefinition accepts', () => {
  it('every aggregation with the paths it needs', () => {
    for (const aggregation of METER_AGGREGATIONS) {
      const input = {
        eventType: 'api.request',
        aggregation,
        ...(['SUM', 'MIN', 'MAX', 'AVG', 'LATEST'].includes(aggregation) ? { valuePath: '$.n' } : {}),
        ...(aggregation === 'UNIQUE_COUNT' ? { uniquePath: '$.user' } : {}),
      };
      expect(checkMeterDefinition(input)).toEqual({ ...input, dimensions: [] });
    }
  });

  it('a definition as proto3 sends it: unset paths are "", unknown fields ignored', () => {
    expect(checkMeterDefinition({ eventType: 'api.request', aggregation: 'COUNT', valuePath: '', uniquePath: '', dimensions: [], extra: 1 })).toEqual({
      eventType: 'api.request',
      aggregation: 'COUNT',
      dimensions: [],
    });
    expect(checkMeterDefinition({ eventType: 'api.request', aggregation: 'COUNT', valuePath: null, dimensions: null })).toEqual({
      eventType: 'api.request',
      aggregation: 'COUNT',
      dimensions: [],
    });
  });

  it(`up to ${MAX_METER_DIMENSIONS} dimensions, in order, paths spelled as given`, () => {
    const def = checkMeterDefinition({ ...SUM, valuePath: "$['usage']['input_tokens']", dimensions: dimensions(MAX_METER_DIMENSIONS) });
    expect(def.valuePath).toBe("$['usage']['input_tokens']");
    expect(def.dimensions.map((d) => d.name)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']);
  });

  it('event types the collector accepts, up to 256 characters', () => {
    for (const eventType of ['a', 'com.example.llm:completion/v1', 'A_b-C', 'x'.repeat(256)]) {
      expect(checkMeterDefinition({ ...SUM, eventType }).eventType).toBe(eventType);
      const event = { specversion: '1.0', id: '1', source: 's', subject: 'c', type: eventType, data: {} };
      expect(normalizeCloudEvent(event, Date.now()).type).toBe(eventType);
    }
  });

  it('dimension names of 1 to 63 characters', () => {
    const name = `a${'b'.repeat(62)}`;
    expect(checkMeterDefinition({ ...SUM, dimensions: [{ name, path: '$.x' }, { name: 'z', path: '$.z' }] }).dimensions[0]?.name).toBe(name);
  });
});

describe('checkMeterDefinition refuses, naming the code and the proto field', () => {
  it.each<[string, unknown, string, string]>([
    ['not an object', 'SUM', 'invalid_meter_definition', 'definition'],
    ['null', null, 'invalid_meter_definition', 'definition'],
    ['no event type', { ...SUM, eventType: undefined }, 'invalid_event_type', 'event_type'],
    ['empty event type', { ...SUM, eventType: '' }, 'invalid_event_type', 'event_type'],
    ['event type of 257 characters', { ...SUM, eventType: 'x'.repeat(257) }, 'invalid_event_type', 'event_type'],
    ['event type with a space', { ...SUM, eventType: 'llm completion' }, 'invalid_event_type', 'event_type'],
    ['event type with SQL', { ...SUM, eventType: "x'; DROP TABLE events_raw --" }, 'invalid_event_type', 'event_type'],
    ['event type not a string', { ...SUM, eventType: 5 }, 'invalid_event_type', 'event_type'],
    ['no aggregation', { ...SUM, aggregation: undefined }, 'invalid_aggregation', 'aggregation'],
    ['lower-case aggregation', { ...SUM, aggregation: 'sum' }, 'invalid_aggregation', 'aggregation'],
    ['proto enum name', { ...SUM, aggregation: 'METER_AGGREGATION_SUM' }, 'invalid_aggregation', 'aggregation'],
    ['unknown aggregation', { ...SUM, aggregation: 'MEDIAN' }, 'invalid_aggregation', 'aggregation'],
    ['SUM without value_path', { ...SUM, valuePath: undefined }, 'missing_value_path', 'value_path'],
    ['SUM with value_path ""', { ...SUM, valuePath: '' }, 'missing_value_path', 'value_path'],
    ['MIN without value_path', { ...SUM, aggregation: 'MIN', valuePath: undefined }, 'missing_value_path', 'value_path'],
    ['MAX without value_path', { ...SUM, aggregation: 'MAX', valuePath: undefined }, 'missing_value_path', 'value_path'],
    ['AVG without value_path', { ...SUM, aggregation: 'AVG', valuePath: undefined }, 'missing_value_path', 'value_path'],
    ['LATEST without value_path', { ...SUM, aggregation: 'LATEST', valuePath: undefined }, 'missing_value_path', 'value_path'],
    ['COUNT with value_path', { ...SUM, aggregation: 'COUNT' }, 'unexpected_value_path', 'value_path'],
    ['UNIQUE_COUNT with value_path', { ...SUM, aggregation: 'UNIQUE_COUNT', uniquePath: '$.u' }, 'unexpected_value_path', 'value_path'],
    ['UNIQUE_COUNT without unique_path', { ...SUM, aggregation: 'UNIQUE_COUNT', valuePath: undefined }, 'missing_unique_path', 'unique_path'],
    ['SUM with unique_path', { ...SUM, uniquePath: '$.u' }, 'unexpected_unique_path', 'unique_path'],
    ['COUNT with unique_path', { eventType: 'e', aggregation: 'COUNT', uniquePath: '$.u' }, 'unexpected_unique_path', 'unique_path'],
    ['value_path not a string', { ...SUM, valuePath: 5 }, 'invalid_path', 'value_path'],
    ['value_path with SQL', { ...SUM, valuePath: "$.a'; DROP TABLE x --" }, 'invalid_path', 'value_path'],
    ['value_path $ alone', { ...SUM, valuePath: '$' }, 'invalid_path', 'value_path'],
    ['value_path with ..', { ...SUM, valuePath: '$..tokens' }, 'invalid_path', 'value_path'],
    ['value_path of 10 kB', { ...SUM, valuePath: `$.${'a'.repeat(10_000)}` }, 'invalid_path', 'value_path'],
    ['unique_path with *', { eventType: 'e', aggregation: 'UNIQUE_COUNT', uniquePath: '$.users[*]' }, 'invalid_path', 'unique_path'],
    ['dimensions not a list', { ...SUM, dimensions: { model: '$.model' } }, 'invalid_meter_definition', 'dimensions'],
    ['a dimension not an object', { ...SUM, dimensions: [{ name: 'a', path: '$.a' }, '$.b'] }, 'invalid_meter_definition', 'dimensions[1]'],
    [`${MAX_METER_DIMENSIONS + 1} dimensions`, { ...SUM, dimensions: dimensions(MAX_METER_DIMENSIONS + 1) }, 'too_many_dimensions', 'dimensions'],
    ['upper-case dimension name', { ...SUM, dimensions: [{ name: 'a', path: '$.a' }, { name: 'Model', path: '$.m' }] }, 'invalid_dimension_name', 'dimensions[1].name'],
    ['digit-first dimension name', { ...SUM, dimensions: [{ name: '1a', path: '$.a' }] }, 'invalid_dimension_name', 'dimensions[0].name'],
    ['empty dimension name', { ...SUM, dimensions: [{ name: '', path: '$.a' }] }, 'invalid_dimension_name', 'dimensions[0].name'],
    ['64-character dimension name', { ...SUM, dimensions: [{ name: 'a'.repeat(64), path: '$.a' }] }, 'invalid_dimension_name', 'dimensions[0].name'],
    ['dimension name with SQL', { ...SUM, dimensions: [{ name: 'a; DROP', path: '$.a' }] }, 'invalid_dimension_name', 'dimensions[0].name'],
    ['no dimension name', { ...SUM, dimensions: [{ path: '$.a' }] }, 'invalid_dimension_name', 'dimensions[0].name'],
    ['duplicate dimension', { ...SUM, dimensions: [{ name: 'a', path: '$.a' }, { name: 'b', path: '$.b' }, { name: 'a', path: '$.c' }] }, 'duplicate_dimension', 'dimensions[2].name'],
    ['bad dimension path', { ...SUM, dimensions: [{ name: 'a', path: '$.a' }, { name: 'b', path: '$.b' }, { name: 'c', path: '$[-1]' }] }, 'invalid_path', 'dimensions[2].path'],
    ['empty dimension path', { ...SUM, dimensions: [{ name: 'a', path: '' }] }, 'invalid_path', 'dimensions[0].path'],
    ['no dimension path', { ...SUM, dimensions: [{ name: 'a' }] }, 'invalid_path', 'dimensions[0].path'],
  ])('%s', (_name, input, code, field) => {
    const err = refusalOf(() => checkMeterDefinition(input));
    expect(err).toMatchObject({ kind: 'invalid_argument', code, field });
    // The message starts with the field and goes on to say what to write.
    expect(err.message.startsWith(`${field} `)).toBe(true);
    expect(err.message.length).toBeGreaterThan(field.length + 10);
  });

  it('says which paths an aggregation needs', () => {
    expect(refusalOf(() => checkMeterDefinition({ ...SUM, valuePath: undefined })).message).toMatch(/value_path is required for SUM.*e\.g\. \$\.tokens/);
    expect(refusalOf(() => checkMeterDefinition({ ...SUM, aggregation: 'UNIQUE_COUNT' })).message).toMatch(/set unique_path instead/);
  });
});

describe('checkMeterSlug', () => {
  it.each(['a', 'llm_input_tokens', 'a1', `a${'b'.repeat(62)}`])('accepts %s', (slug) => {
    expect(checkMeterSlug(slug)).toBe(slug);
  });

  it.each<unknown>(['', 'A', '1a', '_a', 'a-b', 'a b', 'ä', `a${'b'.repeat(63)}`, "a'; DROP TABLE meters --", 5, undefined])('refuses %j', (slug) => {
    expect(refusalOf(() => checkMeterSlug(slug))).toMatchObject({ kind: 'invalid_argument', code: 'invalid_slug', field: 'slug' });
  });
});

describe('canonicalDefinition and definitionsMeasureTheSame', () => {
  it('spells every path one way', () => {
    const def = checkMeterDefinition({
      eventType: 'e',
      aggregation: 'UNIQUE_COUNT',
      uniquePath: '$["user"]',
      dimensions: [{ name: 'region', path: "$['geo']['region name']" }],
    });
    expect(canonicalDefinition(def)).toEqual({
      eventType: 'e',
      aggregation: 'UNIQUE_COUNT',
      uniquePath: '$.user',
      dimensions: [{ name: 'region', path: '$.geo["region name"]' }],
    });
  });

  it('finds no change when only the spelling of a path differs', () => {
    expect(definitionsMeasureTheSame(SUM, { ...SUM, valuePath: "$['usage'][\"input_tokens\"]", dimensions: [{ name: 'model', path: "$['model']" }] })).toBe(true);
    expect(definitionsMeasureTheSame(SUM, structuredClone(SUM))).toBe(true);
  });

  it('treats "" as an unset path, as proto3 sends it', () => {
    const count: MeterDefinition = { eventType: 'e', aggregation: 'COUNT', dimensions: [] };
    expect(definitionsMeasureTheSame(count, { ...count, valuePath: '', uniquePath: '' })).toBe(true);
  });

  it.each<[string, Partial<MeterDefinition>]>([
    ['event type', { eventType: 'llm.completion.v2' }],
    ['aggregation', { aggregation: 'MAX' }],
    ['value path', { valuePath: '$.usage.output_tokens' }],
    ['a dimension path', { dimensions: [{ name: 'model', path: '$.model_id' }] }],
    ['a dimension name', { dimensions: [{ name: 'model_name', path: '$.model' }] }],
    ['a dimension added', { dimensions: [{ name: 'model', path: '$.model' }, { name: 'region', path: '$.region' }] }],
    ['the dimensions removed', { dimensions: [] }],
  ])('needs a new version when the %s changes', (_name, change) => {
    expect(definitionsMeasureTheSame(SUM, { ...SUM, ...change })).toBe(false);
  });

  it('needs a new version when the dimension order changes (values are stored by position)', () => {
    const two = { ...SUM, dimensions: [{ name: 'a', path: '$.a' }, { name: 'b', path: '$.b' }] };
    expect(definitionsMeasureTheSame(two, { ...two, dimensions: [...two.dimensions].reverse() })).toBe(false);
  });
});
