import { readFileSync } from 'node:fs';
import { WindowSize as ProtoWindowSize } from '@polaris/proto';
import { METER_AGGREGATIONS } from '@polaris/shared/meters';
import { createSchema } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { billingAnchorOf, priceModelOf, toProtoBillingAnchor, toProtoInvoiceStatus, toProtoPriceModel, toProtoWindowSize, invoiceStatusOf } from './enums';
import type { BillingAnchor, InvoiceStatus, PriceModel, WindowSize } from './generated/resolvers-types';
import { DEFAULT_SUBJECT } from './usage-record';
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

  it('translates every billing enum value both ways', () => {
    const roundTrip = (name: string, to: (v: string) => unknown, from: (p: never) => string) => {
      const values = enumValues(name);
      const proto = values.map((v) => to(v));
      expect(new Set(proto).size, name).toBe(values.length);
      expect(proto.map((p) => from(p as never)), name).toEqual(values);
    };
    roundTrip('PriceModel', (v) => toProtoPriceModel(v as PriceModel), priceModelOf);
    roundTrip('BillingAnchor', (v) => toProtoBillingAnchor(v as BillingAnchor), billingAnchorOf);
    roundTrip('InvoiceStatus', (v) => toProtoInvoiceStatus(v as InvoiceStatus), invoiceStatusOf);
  });

  it("recordUsage's default subject is the one the resolver uses when the call names none", () => {
    const subject = schema.getMutationType()?.getFields().recordUsage?.args.find((a) => a.name === 'subject');
    expect(subject?.defaultValue).toBe(DEFAULT_SUBJECT);
  });
});
