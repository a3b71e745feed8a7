import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { customersResolvers } from './customers.resolvers';
import { DecimalScalar } from './decimal.scalar';
import { eventsResolvers } from './events.resolvers';
import type { Resolvers } from './generated/resolvers-types';
import { identityResolvers } from './identity.resolvers';
import { invoicesResolvers } from './invoices.resolvers';
import { metersResolvers } from './meters.resolvers';
import { plansResolvers } from './plans.resolvers';
import { recentEventsResolvers } from './recent-events.resolvers';
import { subscriptionsResolvers } from './subscriptions.resolvers';
import { thresholdsResolvers } from './thresholds.resolvers';
import { usageResolvers } from './usage.resolvers';
import { webhooksResolvers } from './webhooks.resolvers';

/**
 * The resolvers of every domain, merged into the one schema (schema.graphql). In each of them the
 * organization id comes from the authenticated key, never from arguments.
 */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSONObject: JSONObjectResolver,
  Decimal: DecimalScalar,
  Query: {
    ...identityResolvers.Query,
    ...usageResolvers.Query,
    ...recentEventsResolvers.Query,
    ...metersResolvers.Query,
    ...customersResolvers.Query,
    ...plansResolvers.Query,
    ...subscriptionsResolvers.Query,
    ...invoicesResolvers.Query,
    ...thresholdsResolvers.Query,
    ...webhooksResolvers.Query,
  },
  Mutation: {
    ...identityResolvers.Mutation,
    ...eventsResolvers.Mutation,
    ...metersResolvers.Mutation,
    ...customersResolvers.Mutation,
    ...plansResolvers.Mutation,
    ...subscriptionsResolvers.Mutation,
    ...invoicesResolvers.Mutation,
    ...thresholdsResolvers.Mutation,
    ...webhooksResolvers.Mutation,
  },
  MeterUsage: usageResolvers.MeterUsage,
  MeterUsageRow: usageResolvers.MeterUsageRow,
  Meter: metersResolvers.Meter,
  MeterBackfill: metersResolvers.MeterBackfill,
  Customer: customersResolvers.Customer,
  Plan: plansResolvers.Plan,
  PlanVersion: plansResolvers.PlanVersion,
  Price: plansResolvers.Price,
  PriceTier: plansResolvers.PriceTier,
  BillingSubscription: subscriptionsResolvers.BillingSubscription,
  SubscriptionPhase: subscriptionsResolvers.SubscriptionPhase,
  Invoice: invoicesResolvers.Invoice,
  UpcomingInvoice: invoicesResolvers.UpcomingInvoice,
  InvoiceLine: invoicesResolvers.InvoiceLine,
  InvoiceLineTier: invoicesResolvers.InvoiceLineTier,
  InvoiceEvent: invoicesResolvers.InvoiceEvent,
  UsageThreshold: thresholdsResolvers.UsageThreshold,
  UsageThresholdFiring: thresholdsResolvers.UsageThresholdFiring,
  WebhookEndpoint: webhooksResolvers.WebhookEndpoint,
  WebhookDelivery: webhooksResolvers.WebhookDelivery,
  WebhookAttempt: webhooksResolvers.WebhookAttempt,
};
