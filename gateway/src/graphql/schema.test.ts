import { readFileSync } from 'node:fs';
import { WindowSize as ProtoWindowSize } from '@polaris/proto';
import { METER_AGGREGATIONS } from '@polaris/shared/meters';
import { createSchema } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { toProtoWindowSize } from './enums';
import type { WindowSize } from './generated/resolvers-types';
import { typeDefs } from './generated/type-defs';
import { resolvers } from './resolvers';

const schema = createSchema({ typeDefs, resolvers });
const enumValues = (name: string): string[] => {
  const type = schema.getType(name);
  // Narrowed by shape, not instanceof: vitest may load graphql's ESM and CJS builds side by side.
  if (!type || !('getValues' in type)) throw new Error(`${name} is not an enum`);
  return type.getValues().map((v) => v.name);
};

describe('the GraphQL schema', () => {
  it('is served exactly as schema.graphql says (the generated module is not stale)', () => {
    expect(typeDefs).toBe(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));
  });

  it('has a resolver for every root field, and no resolver outside the schema', () => {
    // createSchema (above) already refuses a resolver for a field the schema lacks.
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      for (const field of Object.values(root?.getFields() ?? {})) expect(field.resolve, `${root?.name}.${field.name}`).toBeTypeOf('function');
    }
  });

  it('translates every enum value to a distinct proto value', () => {
    const windows = enumValues('WindowSize').map((v) => toProtoWindowSize(v as WindowSize));
    expect(windows).not.toContain(undefined);
    expect(new Set(windows).size).toBe(windows.length);
    expect(toProtoWindowSize('NONE')).toBe(ProtoWindowSize.WINDOW_SIZE_UNSPECIFIED);

    // Meter aggregations are the domain's names, which @polaris/shared/meters maps to proto.
    expect(enumValues('MeterAggregation')).toEqual([...METER_AGGREGATIONS]);
  });
});
