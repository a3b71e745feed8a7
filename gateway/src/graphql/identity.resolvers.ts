import { callUnary } from '@polaris/shared/grpc';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';

/** `me`: the organization of the API key, as Identity knows it. */
export const identityResolvers = {
  Query: {
    me: guarded(async (_parent, _args, ctx) => {
      const { organizationId } = await ctx.principal();
      const { identity } = ctx.backends;
      return callUnary('identity', identity.getOrganization.bind(identity), { organizationId }, ctx.deadlineMs, { actingFor: organizationId });
    }),
  },
} satisfies Resolvers;
