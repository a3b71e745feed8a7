import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '@polaris/proto';
import { ANY_EVENT_TIME, normalizeCloudEvent, type NormalizedEvent } from '@polaris/shared/contracts';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import { inArgumentTerms } from './argument-names';
import type { GatewayContext } from './context';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';
import { aggregationOf, definitionOf, getMeter } from './meter-lookup';
import { DEFAULT_SUBJECT, usageEvents } from './usage-record';

/** The source of events recorded through GraphQL, unless recordEvent names another. */
const GRAPHQL_SOURCE = 'graphql';

/**
 * The same validator as the collector, before anything is encoded: the gRPC encoder would
 * overflow on very deep data and silently turn lone surrogates into U+FFFD. How old or how far
 * ahead `time` may be is the collector's setting (EVENT_MAX_AGE_DAYS, …): Ingest checks it.
 */
function checkedEvent(event: { id: string; source: string; type: string; subject: string; time?: Date | null; data?: unknown }, path: string): NormalizedEvent {
  return normalizeCloudEvent(
    {
      specversion: '1.0',
      id: event.id,
      source: event.source,
      type: event.type,
      subject: event.subject,
      ...(event.time ? { time: event.time.toISOString() } : {}),
      ...(event.data !== undefined && event.data !== null ? { data: event.data } : {}),
    },
    Date.now(),
    path,
    ANY_EVENT_TIME,
  );
}

const toProtoEvent = (e: NormalizedEvent): CloudEvent => ({ id: e.id, source: e.source, type: e.type, subject: e.subject, time: new Date(e.timeMs), data: e.data });

/** How a refusal that names Ingest's `events[i].<attribute>`, or `events` (the batch), reads to the GraphQL caller. */
interface EventArguments {
  /** Put before the attribute: `input.` for recordEvent, nothing for recordUsage's own arguments. */
  attributes: string;
  /** What the batch was: recordUsage's `quantity` (a COUNT meter's events), recordEvent's `input`. */
  batch: string;
}

/** Publishes events of the key's organization through the Ingest service. */
async function publish(ctx: GatewayContext, organizationId: string, events: NormalizedEvent[], named: EventArguments): Promise<number> {
  const { ingest } = ctx.backends;
  const attribute = /\bevents\[\d*\]\./g;
  const res = await callUnary('ingest', ingest.publish.bind(ingest), { organizationId, events: events.map(toProtoEvent) }, ctx.deadlineMs, { actingFor: organizationId }).catch(
    (err: unknown) => {
      if (!(err instanceof PolarisError) || !err.field?.startsWith('events')) throw err;
      const field = err.field === 'events' ? named.batch : err.field.replace(attribute, named.attributes);
      throw new PolarisError(err.kind, err.code, err.message.replace(attribute, named.attributes), field);
    },
  );
  return res.accepted;
}

/** `recordUsage` (a quantity of a meter) and `recordEvent` (one raw event). */
export const eventsResolvers = {
  Mutation: {
    recordUsage: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await ctx.principal('events:write');
      const meter = await getMeter(ctx, organizationId, args.metric).catch((err: unknown) => {
        // The metric is an argument of a write: an unknown one is bad input, not a missing resource.
        if (err instanceof PolarisError && err.kind === 'not_found') throw new PolarisError('invalid_argument', err.code, err.message, 'metric');
        throw inArgumentTerms(err, (field) => (field === 'slug' ? 'metric' : field));
      });
      const definition = definitionOf(meter);
      const planned = usageEvents(
        { slug: meter.slug, status: meter.status, eventType: definition.eventType, aggregation: aggregationOf(definition), valuePath: definition.valuePath },
        { quantity: args.quantity, id: args.id ?? randomUUID(), data: args.data ?? undefined },
      );
      const subject = args.subject ?? DEFAULT_SUBJECT;
      const events = planned.map((e) => checkedEvent({ ...e, source: GRAPHQL_SOURCE, subject, time: args.time }, ''));
      // Every event carries the same call's arguments: a refusal names the argument, not the event.
      await publish(ctx, organizationId, events, { attributes: '', batch: 'quantity' });
      return true;
    }),
    recordEvent: guarded(async (_parent, { input }, ctx) => {
      const { organizationId } = await ctx.principal('events:write');
      const event = checkedEvent({ ...input, source: input.source ?? GRAPHQL_SOURCE }, 'input.');
      return { accepted: await publish(ctx, organizationId, [event], { attributes: 'input.', batch: 'input' }) };
    }),
  },
} satisfies Resolvers;
