import { describe, expect, it } from 'vitest';
import { parseJsonExact } from '../contracts/exact-json';
import { compileMeter, extractMeter, MAX_DIMENSION_VALUE_BYTES, type MeterExtraction } from './extract-meter';
import type { MeterAggregation, MeterDefinition } from './meter-definition';

const VALUE_AGGREGATIONS: MeterAggregation[] = ['SUM', 'MIN', 'MAX', 'AVG', 'LATEST'];

function meter(aggregation: MeterAggregation, dimensions: MeterDefinition['dimensions'] = []) {
  return compileMeter({
    eventType: 'llm.completion',
    aggregation,
    ...(VALUE_AGGREGATIONS.includes(aggregation) ? { valuePath: '$.tokens' } : {}),
    ...(aggregation === 'UNIQUE_COUNT' ? { uniquePath: '$.user' } : {}),
    dimensions,
  });
}

/** Extraction from event data written as JSON, parsed as the sink parses it. */
const extract = (aggregation: MeterAggregation, json: string, dimensions: MeterDefinition['dimensions'] = []): MeterExtraction =>
  extractMeter(meter(aggregation, dimensions), parseJsonExact(json));

const valueOf = (json: string) => {
  const result = extract('SUM', json);
  return result.valid ? result.value : `invalid: ${result.invalidReason}`;
};

describe('extractMeter: values (SUM, MIN, MAX, AVG, LATEST)', () => {
  it('reads exactly the path: $.tokens of {"meta":{"tokens":1000},"tokens":5} is 5', () => {
    expect(extract('SUM', '{"meta":{"tokens":1000},"tokens":5}')).toEqual({ valid: true, value: '5', uniqueKey: '', dimensions: [] });
  });

  it.each(VALUE_AGGREGATIONS)('%s reads the same value the same way', (aggregation) => {
    expect(extract(aggregation, '{"tokens":12.50}')).toEqual({ valid: true, value: '12.5', uniqueKey: '', dimensions: [] });
    expect(extract(aggregation, '{"tokens":"7"}')).toMatchObject({ valid: true, value: '7' });
    expect(extract(aggregation, '{}')).toMatchObject({ valid: false, value: '0' });
  });

  it.each([
    ['{"tokens":12345678901234567890.123456789}', '12345678901234567890.123456789'],
    ['{"tokens":-12345678901234567890.123456789}', '-12345678901234567890.123456789'],
    ['{"tokens":9007199254740993}', '9007199254740993'],
    ['{"tokens":1.5e3}', '1500'],
    ['{"tokens":2E-9}', '0.000000002'],
    ['{"tokens":-0}', '0'],
    ['{"tokens":0}', '0'],
    ['{"tokens":"12.5"}', '12.5'],
    ['{"tokens":"12345678901234567890.123456789"}', '12345678901234567890.123456789'],
    ['{"tokens":"1e3"}', '1000'],
    ['{"tokens":"-0"}', '0'],
  ])('%s → %s, exactly', (json, value) => {
    expect(valueOf(json)).toBe(value);
  });

  it.each([
    ['{}', 'value_path $.tokens is missing'],
    ['{"tokens":null}', 'value_path $.tokens is null'],
    ['{"tokens":true}', 'value_path $.tokens is a boolean, not a number'],
    ['{"tokens":{"n":1}}', 'value_path $.tokens is an object, not a number'],
    ['{"tokens":[1]}', 'value_path $.tokens is an array, not a number'],
    ['{"tokens":"twelve"}', 'value_path $.tokens is a string that is not a JSON number (e.g. "12.5")'],
    ['{"tokens":""}', 'value_path $.tokens is a string that is not a JSON number (e.g. "12.5")'],
    ['{"tokens":" 12"}', 'value_path $.tokens is a string that is not a JSON number (e.g. "12.5")'],
    ['{"tokens":1e21}', 'value_path $.tokens has more than 20 integer digits'],
    ['{"tokens":100000000000000000000}', 'value_path $.tokens has more than 20 integer digits'],
    ['{"tokens":0.1234567891}', 'value_path $.tokens has more than 9 fractional digits'],
    ['{"tokens":"0.1234567891"}', 'value_path $.tokens has more than 9 fractional digits'],
    ['{"meta":{"tokens":1000}}', 'value_path $.tokens is missing'],
  ])('%s is invalid (%s), never 0', (json, reason) => {
    expect(extract('SUM', json)).toEqual({ valid: false, value: '0', uniqueKey: '', dimensions: [], invalidReason: reason });
  });

  it('names the path in its canonical spelling', () => {
    const m = compileMeter({ eventType: 'e', aggregation: 'SUM', valuePath: "$['usage']['input tokens']", dimensions: [] });
    expect(extractMeter(m, {}).invalidReason).toBe('value_path $.usage["input tokens"] is missing');
    expect(extractMeter(m, { usage: { 'input tokens': 3 } })).toMatchObject({ valid: true, value: '3' });
  });

  it('is invalid for data that is missing or not an object', () => {
    for (const data of [undefined, null, 5, 'text', [], true]) {
      expect(extractMeter(meter('SUM'), data)).toMatchObject({ valid: false, value: '0', invalidReason: 'value_path $.tokens is missing' });
    }
  });

  it('reads no inherited property', () => {
    const m = compileMeter({ eventType: 'e', aggregation: 'SUM', valuePath: '$.constructor.length', dimensions: [] });
    expect(extractMeter(m, {})).toMatchObject({ valid: false, invalidReason: 'value_path $.constructor.length is missing' });
  });
});

describe('extractMeter: COUNT', () => {
  it('counts every event: always valid, value 0', () => {
    for (const data of [{}, undefined, null, { tokens: 'x' }, parseJsonExact('{"tokens":1e400}')]) {
      expect(extractMeter(meter('COUNT'), data)).toEqual({ valid: true, value: '0', uniqueKey: '', dimensions: [] });
    }
  });

  it('stores a dimension it cannot use as "", and stays valid', () => {
    const dims = [
      { name: 'model', path: '$.model' },
      { name: 'meta', path: '$.meta' },
      { name: 'long', path: '$.long' },
    ];
    const json = JSON.stringify({ model: 'gpt', meta: { a: 1 }, long: 'x'.repeat(MAX_DIMENSION_VALUE_BYTES + 1) });
    expect(extract('COUNT', json, dims)).toEqual({ valid: true, value: '0', uniqueKey: '', dimensions: ['gpt', '', ''] });
  });
});

describe('extractMeter: UNIQUE_COUNT keys', () => {
  it.each([
    ['{"user":"12"}', 's:12'],
    ['{"user":12}', 'n:12'],
    ['{"user":12.0}', 'n:12'],
    ['{"user":true}', 'b:true'],
    ['{"user":false}', 'b:false'],
    ['{"user":""}', 's:'],
    ['{"user":"日本"}', 's:日本'],
    ['{"user":12345678901234567890}', 'n:12345678901234567890'],
    // Spelled as JSON.stringify spells numbers: exponent notation from 1e21 on.
    ['{"user":12345678901234567890123}', 'n:1.2345678901234567890123e+22'],
    ['{"user":1.50000000000000000000}', 'n:1.5'],
    ['{"user":1e30}', 'n:1e+30'],
  ])('%s → %s', (json, key) => {
    expect(extract('UNIQUE_COUNT', json)).toEqual({ valid: true, value: '0', uniqueKey: key, dimensions: [] });
  });

  it('keeps "12" and 12 apart', () => {
    expect(extract('UNIQUE_COUNT', '{"user":"12"}').uniqueKey).not.toBe(extract('UNIQUE_COUNT', '{"user":12}').uniqueKey);
  });

  it.each([
    ['{}', 'unique_path $.user is missing'],
    ['{"user":null}', 'unique_path $.user is null'],
    ['{"user":{"id":1}}', 'unique_path $.user is an object; a unique key must be a string, number or boolean'],
    ['{"user":[1]}', 'unique_path $.user is an array; a unique key must be a string, number or boolean'],
  ])('%s is invalid', (json, reason) => {
    expect(extract('UNIQUE_COUNT', json)).toEqual({ valid: false, value: '0', uniqueKey: '', dimensions: [], invalidReason: reason });
  });
});

describe('extractMeter: dimensions', () => {
  const dims = [
    { name: 'model', path: '$.model' },
    { name: 'region', path: '$.geo.region' },
    { name: 'tier', path: '$.tier' },
  ];

  it('reads one value per dimension, in the definition order', () => {
    expect(extract('SUM', '{"tokens":5,"model":"gpt","geo":{"region":"eu"},"tier":2}', dims)).toEqual({
      valid: true,
      value: '5',
      uniqueKey: '',
      dimensions: ['gpt', 'eu', '2'],
    });
  });

  it.each([
    ['missing', '{"tokens":1}', ''],
    ['null', '{"tokens":1,"model":null}', ''],
    ['a string', '{"tokens":1,"model":"gpt-4o"}', 'gpt-4o'],
    ['an empty string', '{"tokens":1,"model":""}', ''],
    ['a number', '{"tokens":1,"model":12.50}', '12.5'],
    ['an exact number', '{"tokens":1,"model":12345678901234567890.5}', '12345678901234567890.5'],
    ['a numeric string, as written', '{"tokens":1,"model":"12.50"}', '12.50'],
    ['true', '{"tokens":1,"model":true}', 'true'],
    ['false', '{"tokens":1,"model":false}', 'false'],
    ['unicode', '{"tokens":1,"model":"日本"}', '日本'],
  ])('%s: %s → %j', (_name, json, text) => {
    expect(extract('SUM', json, [{ name: 'model', path: '$.model' }])).toMatchObject({ valid: true, dimensions: [text] });
  });

  it(`takes values up to ${MAX_DIMENSION_VALUE_BYTES} UTF-8 bytes`, () => {
    const dim = [{ name: 'model', path: '$.model' }];
    expect(extract('SUM', JSON.stringify({ tokens: 1, model: 'x'.repeat(256) }), dim)).toMatchObject({ valid: true, dimensions: ['x'.repeat(256)] });
    // 85 × 3 bytes = 255; one more character is 258 bytes.
    expect(extract('SUM', JSON.stringify({ tokens: 1, model: '日'.repeat(85) }), dim)).toMatchObject({ valid: true });
    expect(extract('SUM', JSON.stringify({ tokens: 1, model: '日'.repeat(86) }), dim)).toMatchObject({
      valid: false,
      invalidReason: 'dimension model ($.model) is longer than 256 bytes (UTF-8)',
    });
    expect(extract('SUM', JSON.stringify({ tokens: 1, model: 'x'.repeat(257) }), dim)).toMatchObject({ valid: false });
  });

  it('makes the event invalid for an object or array, and keeps the readable dimensions', () => {
    expect(extract('SUM', '{"tokens":5,"model":"gpt","geo":{"region":{"code":"eu"}},"tier":1}', dims)).toEqual({
      valid: false,
      value: '0',
      uniqueKey: '',
      dimensions: ['gpt', '', '1'],
      invalidReason: 'dimension region ($.geo.region) is an object; a dimension must be a string, number or boolean',
    });
    expect(extract('SUM', '{"tokens":5,"model":["a"]}', dims)).toMatchObject({
      valid: false,
      dimensions: ['', '', ''],
      invalidReason: 'dimension model ($.model) is an array; a dimension must be a string, number or boolean',
    });
  });

  it('returns the dimensions of an event whose value is invalid, and names the value first', () => {
    expect(extract('SUM', '{"tokens":"many","model":"gpt","geo":{"region":[]},"tier":3}', dims)).toEqual({
      valid: false,
      value: '0',
      uniqueKey: '',
      dimensions: ['gpt', '', '3'],
      invalidReason: 'value_path $.tokens is a string that is not a JSON number (e.g. "12.5")',
    });
    expect(extract('UNIQUE_COUNT', '{"model":"gpt","tier":3}', dims)).toMatchObject({ valid: false, uniqueKey: '', dimensions: ['gpt', '', '3'] });
  });

  it('gives a fresh dimensions array per event', () => {
    const m = meter('COUNT', [{ name: 'model', path: '$.model' }]);
    const a = extractMeter(m, { model: 'a' });
    const b = extractMeter(m, { model: 'b' });
    expect([a.dimensions, b.dimensions]).toEqual([['a'], ['b']]);
  });
});

describe('compileMeter', () => {
  it('checks the definition it is given', () => {
    expect(() => compileMeter({ eventType: 'e', aggregation: 'SUM', dimensions: [] })).toThrow(expect.objectContaining({ code: 'missing_value_path' }));
    expect(() => compileMeter({ eventType: 'e', aggregation: 'SUM', valuePath: '$..x', dimensions: [] })).toThrow(
      expect.objectContaining({ code: 'invalid_path', field: 'value_path' }),
    );
  });

  it('keeps the checked definition', () => {
    const m = compileMeter({ eventType: 'e', aggregation: 'COUNT', valuePath: '', dimensions: [] } as MeterDefinition);
    expect(m.definition).toEqual({ eventType: 'e', aggregation: 'COUNT', dimensions: [] });
  });
});
