import type { ListEventsRequest, StoredEvent } from '@polaris/proto';
import { callUnary } from '@polaris/shared/grpc';
import { inArgumentTerms } from './argument-names';
import { guarded } from './errors';
import type { Resolvers, StoredEvent as GraphQLStoredEvent } from './generated/resolvers-types';
import { connection, pageArgument, pageSize } from './pages';

/**
 * `events(…)`: the organization's recent stored events with what the meters read from each,
 * answered by the Usage service (sink-worker, ClickHouse). The organization is the key's.
 */
export const recentEventsResolvers = {
  Query: {
    events: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await ctx.principal('usage:read');
      const request: ListEventsRequest = {
        organizationId,
        pageSize: pageSize(args.first),
        pageToken: args.after ?? '',
        type: args.type ?? '',
        subject: args.subject ?? '',
        from: args.from ?? undefined,
        to: args.to ?? undefined,
      };
      const { usage } = ctx.backends;
      const res = await callUnary('usage', usage.listEvents.bind(usage), request, ctx.deadlineMs, { actingFor: organizationId }).catch((err: unknown) => {
        throw inArgumentTerms(err, eventsArgument);
      });
      return {
        ...connection(res.events.map(toGraphQL), res.nextPageToken),
        from: res.from ?? new Date(0),
        to: res.to ?? new Date(0),
      };
    }),
  },
} satisfies Resolvers;

// Proto field names → the `events` arguments a GraphQL caller sent.
const eventsArgument = (field: string): string => (field === 'page_size' ? 'first' : pageArgument(field));

function toGraphQL(e: StoredEvent): GraphQLStoredEvent {
  return {
    id: e.id,
    source: e.source,
    type: e.type,
    subject: e.subject,
    time: e.time ?? new Date(0),
    ingestedAt: e.ingestedAt ?? new Date(0),
    data: e.data,
    meterValues: e.meterValues.map((v) => ({ meterSlug: v.meterSlug, value: v.value, uniqueKey: v.uniqueKey || null, dimensions: v.dimensions })),
    invalidValues: e.invalidValues.map((v) => ({ meterSlug: v.meterSlug, reason: v.reason })),
  };
}
