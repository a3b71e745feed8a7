import { normalizeCloudEvent } from '@polaris/shared/contracts';
import { callUnary } from '@polaris/shared/grpc';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';

/** `recordUsage`: one event of the key's organization, published through the Ingest service. */
export const eventsResolvers = {
  Mutation: {
    recordUsage: guarded(async (_parent, { input }, ctx) => {
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
        { actingFor: organizationId },
      );
      return { accepted: res.accepted };
    }),
  },
} satisfies Resolvers;
