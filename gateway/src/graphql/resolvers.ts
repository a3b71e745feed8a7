import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { callUnary, normalizeCloudEvent } from '@polaris/shared';
import { Aggregation, WindowSize } from '@polaris/proto';
import type { GatewayContext } from './context';
import { toGraphQLError } from './errors';

interface UsageArgs {
  eventType: string;
  from: Date;
  to: Date;
  windowSize: keyof typeof WINDOW;
  aggregation: keyof typeof AGGREGATION;
  valueProperty?: string | null;
  subjects?: string[] | null;
  groupBySubject: boolean;
}

interface RecordUsageArgs {
  input: { id: string; source: string; type: string; subject: string; time?: Date | null; data?: Record<string, unknown> | null };
}

const WINDOW = {
  NONE: WindowSize.WINDOW_SIZE_UNSPECIFIED,
  MINUTE: WindowSize.WINDOW_SIZE_MINUTE,
  HOUR: WindowSize.WINDOW_SIZE_HOUR,
  DAY: WindowSize.WINDOW_SIZE_DAY,
} as const;
const AGGREGATION = { COUNT: Aggregation.AGGREGATION_COUNT, SUM: Aggregation.AGGREGATION_SUM } as const;

/** Every resolver error leaves as a GraphQL error with a code, a field and an HTTP status. */
function guarded<A, R>(fn: (args: A, ctx: GatewayContext) => Promise<R>) {
  return async (_parent: unknown, args: A, ctx: GatewayContext): Promise<R> => {
    try {
      return await fn(args, ctx);
    } catch (err) {
      throw toGraphQLError(err);
    }
  };
}

/** The organization id always comes from the authenticated key, never from arguments. */
export const resolvers = {
  DateTime: DateTimeResolver,
  JSONObject: JSONObjectResolver,
  Query: {
    me: guarded(async (_args: unknown, ctx) => {
      const { organizationId } = await ctx.principal();
      const { identity } = ctx.backends;
      return callUnary('identity', identity.getOrganization.bind(identity), { organizationId }, ctx.deadlineMs);
    }),
    usage: guarded(async (args: UsageArgs, ctx) => {
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
          windowSize: WINDOW[args.windowSize],
          aggregation: AGGREGATION[args.aggregation],
          valueProperty: args.valueProperty ?? '',
          subjects: args.subjects ?? [],
          groupBySubject: args.groupBySubject,
        },
        ctx.deadlineMs,
      );
    }),
  },
  Mutation: {
    recordUsage: guarded(async ({ input }: RecordUsageArgs, ctx) => {
      const { organizationId } = await ctx.principal('events:write');
      // The same validator as the collector, before anything is encoded: the gRPC encoder would
      // overflow on very deep data and silently turn lone surrogates into U+FFFD.
      const event = normalizeCloudEvent(
        {
          specversion: '1.0',
          id: input.id,
          source: input.source,
          type: input.type,
          subject: input.subject,
          ...(input.time ? { time: input.time.toISOString() } : {}),
          ...(input.data !== undefined && input.data !== null ? { data: input.data } : {}),
        },
        Date.now(),
        'input.',
      );
      const { ingest } = ctx.backends;
      const res = await callUnary(
        'ingest',
        ingest.publish.bind(ingest),
        {
          organizationId,
          events: [
            {
              id: event.id,
              source: event.source,
              type: event.type,
              subject: event.subject,
              time: new Date(event.timeMs),
              data: event.data,
            },
          ],
        },
        ctx.deadlineMs,
      );
      return { accepted: res.accepted };
    }),
  },
};
