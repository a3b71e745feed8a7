import type { UsageThreshold as ProtoUsageThreshold, UsageThresholdFiring as ProtoUsageThresholdFiring } from '@polaris/proto';
import { argumentsNamed, billingReader, billingWriter, callBilling, exactlyOne } from './billing-access';
import { guarded } from './errors';
import type { Resolvers, UsageThresholdKind, UsageThresholdStatus } from './generated/resolvers-types';

// Usage thresholds (README "Usage thresholds"), through the rating-worker's UsageThresholds
// service: list, create and archive a customer's thresholds, and see which fired. The kind and
// status enums cross between proto text and GraphQL here and nowhere else.

const KIND: Record<string, UsageThresholdKind> = { absolute: 'ABSOLUTE', percent: 'PERCENT' };
const STATUS: Record<string, UsageThresholdStatus> = { active: 'ACTIVE', archived: 'ARCHIVED' };
const kindOf = (kind: string): UsageThresholdKind => {
  const found = KIND[kind];
  if (!found) throw new Error(`unknown usage threshold kind ${JSON.stringify(kind)}`);
  return found;
};

// The service names the customer `customer_id` / `external_id` and the threshold `threshold_id`.
const byCustomer = argumentsNamed({ customer_id: 'customerId', external_id: 'externalId', threshold_id: 'thresholdId', page_size: 'first' });
const createArgument = argumentsNamed({}, 'input.');
const deleteArgument = argumentsNamed({ threshold_id: 'id' });

/** Firings asked at most this many at a time (the service's own limit). */
const MAX_FIRINGS = 200;

export const thresholdsResolvers = {
  Query: {
    usageThresholds: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      exactlyOne({ customerId: args.customerId, externalId: args.externalId });
      const { usageThresholds } = ctx.backends;
      const res = await callBilling(
        ctx,
        usageThresholds.listUsageThresholds.bind(usageThresholds),
        { organizationId, customerId: args.customerId ?? '', externalId: args.externalId ?? '', includeArchived: args.includeArchived ?? false },
        organizationId,
        byCustomer,
      );
      return res.thresholds;
    }),
    usageThresholdFirings: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      if (args.customerId && args.externalId) exactlyOne({ customerId: args.customerId, externalId: args.externalId });
      const { usageThresholds } = ctx.backends;
      const res = await callBilling(
        ctx,
        usageThresholds.listUsageThresholdFirings.bind(usageThresholds),
        {
          organizationId,
          customerId: args.customerId ?? '',
          externalId: args.externalId ?? '',
          thresholdId: args.thresholdId ?? '',
          pageSize: Math.min(Math.max(args.first ?? 50, 1), MAX_FIRINGS),
        },
        organizationId,
        byCustomer,
      );
      return res.firings;
    }),
  },
  Mutation: {
    createUsageThreshold: guarded(async (_parent, { input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      exactlyOne({ 'input.customerId': input.customerId, 'input.externalId': input.externalId });
      const { usageThresholds } = ctx.backends;
      return callBilling(
        ctx,
        usageThresholds.createUsageThreshold.bind(usageThresholds),
        {
          organizationId,
          customerId: input.customerId ?? '',
          externalId: input.externalId ?? '',
          meter: input.meter,
          quantity: input.quantity ?? '',
          percent: input.percent ?? '',
        },
        organizationId,
        createArgument,
      );
    }),
    deleteUsageThreshold: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { usageThresholds } = ctx.backends;
      return callBilling(ctx, usageThresholds.archiveUsageThreshold.bind(usageThresholds), { organizationId, thresholdId: args.id }, organizationId, deleteArgument);
    }),
  },
  UsageThreshold: {
    kind: (t: ProtoUsageThreshold) => kindOf(t.kind),
    status: (t: ProtoUsageThreshold) => STATUS[t.status] ?? 'ACTIVE',
    quantity: (t: ProtoUsageThreshold) => t.quantity || null,
    percent: (t: ProtoUsageThreshold) => t.percent || null,
    createdAt: (t: ProtoUsageThreshold) => t.createdAt as Date,
    archivedAt: (t: ProtoUsageThreshold) => t.archivedAt ?? null,
  },
  UsageThresholdFiring: {
    kind: (f: ProtoUsageThresholdFiring) => kindOf(f.kind),
    percent: (f: ProtoUsageThresholdFiring) => f.percent || null,
    periodStart: (f: ProtoUsageThresholdFiring) => f.periodStart as Date,
    periodEnd: (f: ProtoUsageThresholdFiring) => f.periodEnd as Date,
    firedAt: (f: ProtoUsageThresholdFiring) => f.firedAt as Date,
  },
} satisfies Resolvers;
