import { argumentsNamed, billingReader, billingWriter, callBilling } from './billing-access';
import { planStatusOf, planVersionStatusOf, priceModelOf } from './enums';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';
import { meterOfRow } from './meter-lookup';
import { connection, pageArgument, pageSize } from './pages';
import { priceToProto } from './price-input';

// The Plans service names a plan `key` or `plan_key` and a version `version` or `plan_version`;
// a price's fields by their path (`prices[1].tiers[2].from`), camel-cased under `input.`.
const inputArgument = argumentsNamed({}, 'input.');
const versionArgument = argumentsNamed({ plan_key: 'planKey', key: 'planKey', version: 'version', plan_version: 'version' }, 'input.');
const planArgument = argumentsNamed({ plan_key: 'key' });

/** Plans, their versions and prices, through the rating-worker's Plans service. */
export const plansResolvers = {
  Query: {
    plans: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      const { plans } = ctx.backends;
      const res = await callBilling(
        ctx,
        plans.listPlans.bind(plans),
        { organizationId, includeArchived: args.includeArchived ?? false, pageSize: pageSize(args.first), pageToken: args.after ?? '' },
        organizationId,
        pageArgument,
      );
      return connection(res.plans, res.nextPageToken);
    }),
    plan: guarded(async (_parent, { key }, ctx) => {
      const organizationId = await billingReader(ctx);
      const { plans } = ctx.backends;
      return callBilling(ctx, plans.getPlan.bind(plans), { organizationId, key }, organizationId, planArgument);
    }),
  },
  Mutation: {
    createPlan: guarded(async (_parent, { input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { plans } = ctx.backends;
      return callBilling(
        ctx,
        plans.createPlan.bind(plans),
        { organizationId, key: input.key, name: input.name, description: input.description ?? '', currency: input.currency, prices: (input.prices ?? []).map(priceToProto) },
        organizationId,
        inputArgument,
      );
    }),
    createPlanVersion: guarded(async (_parent, { planKey, input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { plans } = ctx.backends;
      return callBilling(
        ctx,
        plans.createPlanVersion.bind(plans),
        { organizationId, planKey, currency: input.currency, prices: input.prices.map(priceToProto) },
        organizationId,
        versionArgument,
      );
    }),
    updatePlanVersion: guarded(async (_parent, { planKey, version, input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { plans } = ctx.backends;
      return callBilling(
        ctx,
        plans.updatePlanVersion.bind(plans),
        {
          version: { organizationId, planKey, version },
          currency: input.currency ?? undefined,
          // An empty list is a free plan, so whether the prices are replaced is said apart.
          prices: (input.prices ?? []).map(priceToProto),
          replacePrices: input.prices !== undefined && input.prices !== null,
        },
        organizationId,
        versionArgument,
      );
    }),
    publishPlanVersion: guarded(async (_parent, { planKey, version }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { plans } = ctx.backends;
      return callBilling(ctx, plans.publishPlanVersion.bind(plans), { organizationId, planKey, version }, organizationId, versionArgument);
    }),
    archivePlan: guarded(async (_parent, { key }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { plans } = ctx.backends;
      return callBilling(ctx, plans.archivePlan.bind(plans), { organizationId, key }, organizationId, planArgument);
    }),
  },
  Plan: {
    status: (p) => planStatusOf(p.status),
    createdAt: (p) => p.createdAt as Date,
    updatedAt: (p) => p.updatedAt as Date,
  },
  PlanVersion: {
    status: (v) => planVersionStatusOf(v.status),
    createdAt: (v) => v.createdAt as Date,
    publishedAt: (v) => v.publishedAt ?? null,
  },
  Price: {
    model: (p) => priceModelOf(p.model),
    meterSlug: (p) => p.meterSlug || null,
    meter: guarded(async (p, _args, ctx) => meterOfRow(ctx, p.meterSlug ?? '')),
    amount: (p) => p.amount || null,
    unitPrice: (p) => p.unitPrice || null,
    packageSize: (p) => p.packageSize || null,
    packagePrice: (p) => p.packagePrice || null,
    freeQuota: (p) => p.freeQuota || '0',
  },
  PriceTier: {
    from: (t) => t.from || '0',
    upTo: (t) => t.upTo || null,
    unitPrice: (t) => t.unitPrice || '0',
    flatFee: (t) => t.flatFee || '0',
  },
} satisfies Resolvers;
