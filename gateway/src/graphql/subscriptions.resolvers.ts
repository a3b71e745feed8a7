import { argumentsNamed, billingReader, billingWriter, callBilling, exactlyOne } from './billing-access';
import { billingAnchorOf, subscriptionStatusOf, toProtoBillingAnchor } from './enums';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';
import { connection, pageSize } from './pages';

const listArgument = argumentsNamed({ page_token: 'after' });
const byIdArgument = argumentsNamed({ subscription_id: 'id' });
const createArgument = argumentsNamed({ customer: 'input.customerId' }, 'input.');

/** Subscriptions, through the rating-worker's Subscriptions service; `customer` through the request's loader. */
export const subscriptionsResolvers = {
  Query: {
    subscriptions: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      const { subscriptions } = ctx.backends;
      const res = await callBilling(
        ctx,
        subscriptions.listSubscriptions.bind(subscriptions),
        { organizationId, customerId: args.customerId ?? '', pageSize: pageSize(args.first), pageToken: args.after ?? '' },
        organizationId,
        listArgument,
      );
      return connection(res.subscriptions, res.nextPageToken);
    }),
    subscription: guarded(async (_parent, { id }, ctx) => {
      const organizationId = await billingReader(ctx);
      const { subscriptions } = ctx.backends;
      return callBilling(ctx, subscriptions.getSubscription.bind(subscriptions), { organizationId, subscriptionId: id }, organizationId, byIdArgument);
    }),
  },
  Mutation: {
    createSubscription: guarded(async (_parent, { input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      exactlyOne({ 'input.customerId': input.customerId, 'input.externalId': input.externalId });
      const { subscriptions } = ctx.backends;
      return callBilling(
        ctx,
        subscriptions.createSubscription.bind(subscriptions),
        {
          customer: { organizationId, customerId: input.customerId ?? '', externalId: input.externalId ?? '' },
          planKey: input.planKey,
          planVersion: input.planVersion ?? 0,
          startAt: input.startAt ?? undefined,
          billingAnchor: toProtoBillingAnchor(input.billingAnchor ?? 'CALENDAR'),
        },
        organizationId,
        createArgument,
      );
    }),
    changeSubscriptionPlan: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { subscriptions } = ctx.backends;
      return callBilling(
        ctx,
        subscriptions.changeSubscriptionPlan.bind(subscriptions),
        { subscription: { organizationId, subscriptionId: args.id }, planKey: args.planKey, planVersion: args.planVersion ?? 0, effectiveAt: args.effectiveAt ?? undefined },
        organizationId,
        byIdArgument,
      );
    }),
    cancelSubscription: guarded(async (_parent, { id }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { subscriptions } = ctx.backends;
      return callBilling(ctx, subscriptions.cancelSubscription.bind(subscriptions), { organizationId, subscriptionId: id }, organizationId, byIdArgument);
    }),
  },
  BillingSubscription: {
    customer: guarded(async (s, _args, ctx) => ctx.loaders.customer.load(s.customerId)),
    status: (s) => subscriptionStatusOf(s.status),
    billingAnchor: (s) => billingAnchorOf(s.billingAnchor),
    startAt: (s) => s.startAt as Date,
    currentPeriodStart: (s) => s.currentPeriodStart ?? null,
    currentPeriodEnd: (s) => s.currentPeriodEnd ?? null,
    cancelAt: (s) => s.cancelAt ?? null,
    billedThrough: (s) => s.billedThrough ?? null,
    createdAt: (s) => s.createdAt as Date,
    updatedAt: (s) => s.updatedAt as Date,
  },
  SubscriptionPhase: {
    startsAt: (p) => p.startsAt as Date,
  },
} satisfies Resolvers;
