import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { eventsResolvers } from './events.resolvers';
import type { Resolvers } from './generated/resolvers-types';
import { identityResolvers } from './identity.resolvers';
import { metersResolvers } from './meters.resolvers';
import { usageResolvers } from './usage.resolvers';

/**
 * The resolvers of every domain, merged into the one schema (schema.graphql). In each of them the
 * organization id comes from the authenticated key, never from arguments.
 */
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSONObject: JSONObjectResolver,
  Query: { ...identityResolvers.Query, ...usageResolvers.Query, ...metersResolvers.Query },
  Mutation: { ...eventsResolvers.Mutation, ...metersResolvers.Mutation },
  MeterUsage: usageResolvers.MeterUsage,
  MeterUsageRow: usageResolvers.MeterUsageRow,
  Meter: metersResolvers.Meter,
  MeterBackfill: metersResolvers.MeterBackfill,
};
