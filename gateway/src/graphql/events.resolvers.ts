import { ANY_EVENT_TIME, normalizeCloudEvent } from '@polaris/shared/contracts';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';

/** Ingest names the event it refused `events[0].<attribute>`; to the GraphQL caller it is `input.<attribute>`. */
function asInputError(err: unknown): unknown {
  if (!(err instanceof PolarisError) || err.kind !== 'invalid_argument' || !err.field?.startsWith('events[0].')) return err;
  const rename = (text: string) => text.replace('events[0].', 'input.');
  return new PolarisError(err.kind, err.code, rename(err.message), rename(err.field));
}

/** `recordUsage`: one event of the key's organization, published through the Ingest service. */
export const eventsResolvers = {
  Mutation: {
    recordUsage: guarded(async (_parent, { input }, ctx) => {
      const { organizationId } = await ctx.principal('events:write');
      // The same validator as the collector, before anything is encoded: the gRPC encoder would
      // overflow on very deep data and silently turn lone surrogates into U+FFFD. How old or how
      // far ahead `time` may be is the collector's setting (EVENT_MAX_AGE_DAYS, …): Ingest checks it.
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
        ANY_EVENT_TIME,
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
      ).catch((err: unknown) => {
        throw asInputError(err);
      });
      return { accepted: res.accepted };
    }),
  },
} satisfies Resolvers;
