import { describe, expect, it } from 'vitest';
import { definitionFromFlags, flagOf, mergeDefinition, parseDay, parseDimension } from './meter-flags';

const sum = { eventType: 'llm.completion', aggregation: 'SUM' as const, valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] };

describe('meter definition flags', () => {
  it('build a definition, aggregation in any case, dimensions in order', () => {
    expect(definitionFromFlags({ eventType: 'e', aggregation: 'unique-count', uniquePath: '$.user', dimension: ['a=$.a', 'b=$["x=y"]'] })).toEqual({
      eventType: 'e',
      aggregation: 'UNIQUE_COUNT',
      valuePath: undefined,
      uniquePath: '$.user',
      dimensions: [
        { name: 'a', path: '$.a' },
        { name: 'b', path: '$["x=y"]' },
      ],
    });
    expect(() => parseDimension('model')).toThrow(/name=path/);
    expect(() => parseDimension('=$.x')).toThrow(/name=path/);
  });

  it('update over the current definition, dropping paths the new aggregation refuses', () => {
    expect(mergeDefinition(sum, {})).toBeUndefined();
    expect(mergeDefinition(sum, { aggregation: 'count' })).toEqual({ ...sum, aggregation: 'COUNT', valuePath: undefined, uniquePath: undefined });
    expect(mergeDefinition(sum, { aggregation: 'UNIQUE_COUNT', uniquePath: '$.u' })).toMatchObject({ valuePath: undefined, uniquePath: '$.u' });
    expect(mergeDefinition(sum, { valuePath: '$.other' })).toMatchObject({ aggregation: 'SUM', valuePath: '$.other', dimensions: sum.dimensions });
    expect(mergeDefinition(sum, { clearDimensions: true })).toMatchObject({ dimensions: [] });
    expect(mergeDefinition(sum, { dimension: ['region=$.region'] })).toMatchObject({ dimensions: [{ name: 'region', path: '$.region' }] });
    expect(() => mergeDefinition(sum, { dimension: ['a=$.a'], clearDimensions: true })).toThrow(/not both/);
  });

  it('read days as UTC midnight and name the flag of a field', () => {
    expect(parseDay('2024-05-01', '--from')).toEqual(new Date('2024-05-01T00:00:00Z'));
    expect(parseDay('2024-05-01T12:00:00Z', '--from')).toEqual(new Date('2024-05-01T12:00:00Z'));
    expect(() => parseDay('May 1st', '--to')).toThrow(/--to takes a UTC day/);
    expect([flagOf('value_path'), flagOf('dimensions[2].path'), flagOf('slug'), flagOf('x'), flagOf(undefined)]).toEqual([
      '--value-path',
      '--dimension',
      'the <slug> argument',
      undefined,
      undefined,
    ]);
  });
});
