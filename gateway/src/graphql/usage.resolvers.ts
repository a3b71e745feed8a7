import { callUnary } from '@polaris/shared/grpc';
import { toProtoAggregation, toProtoWindowSize } from './enums';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';

/** `usage`: one usage query of the key's organization, answered by the Usage service. */
export const usageResolvers = {
  Query: {
    usage: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await ctx.principal('usage:read');
      const { usage } = ctx.backends;
      return callUnary(
        'usage',
        usage.query.bind(usage),
        {
          organizationId,
          eventType: args.eventType,
          from: args.from,
          to: args.to,
          windowSize: toProtoWindowSize(args.windowSize),
          aggregation: toProtoAggregation(args.aggregation),
          valueProperty: args.valueProperty ?? '',
          subjects: args.subjects ?? [],
          groupBySubject: args.groupBySubject,
        },
        ctx.deadlineMs,
        { actingFor: organizationId },
      );
    }),
  },
} satisfies Resolvers;
