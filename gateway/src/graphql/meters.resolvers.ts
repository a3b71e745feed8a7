import type { Meter as ProtoMeter, MeterDefinition as ProtoDefinition } from '@polaris/proto';
import { callUnary } from '@polaris/shared/grpc';
import { meterDefinitionToProto } from '@polaris/shared/meters';
import type { GatewayContext } from './context';
import { camelCaseField, inArgumentTerms } from './argument-names';
import { guarded } from './errors';
import { aggregationOf, definitionOf, getMeter } from './meter-lookup';
import { connection, pageArgument, pageSize } from './pages';
import type { MeterDimensionInput, Resolvers, UpdateMeterInput } from './generated/resolvers-types';

/** Meters of the key's organization, through the rating-worker's Meters service. */
export const metersResolvers = {
  Query: {
    meter: guarded(async (_parent, { slug }, ctx) => {
      const organizationId = await org(ctx, 'usage:read');
      return getMeter(ctx, organizationId, slug);
    }),
    meters: guarded(async (_parent, args, ctx) => {
      const organizationId = await org(ctx, 'usage:read');
      const { meters } = ctx.backends;
      const res = await callUnary(
        'meters',
        meters.listMeters.bind(meters),
        { organizationId, includeArchived: args.includeArchived ?? false, pageSize: pageSize(args.first), pageToken: args.after ?? '' },
        ctx.deadlineMs,
        { actingFor: organizationId },
      ).catch((err: unknown) => {
        throw inArgumentTerms(err, pageArgument);
      });
      return connection(res.meters, res.nextPageToken);
    }),
    meterBackfill: guarded(async (_parent, { id }, ctx) => {
      const organizationId = await org(ctx, 'usage:read');
      const { meters } = ctx.backends;
      return callUnary('meters', meters.getBackfill.bind(meters), { organizationId, backfillRunId: id }, ctx.deadlineMs, { actingFor: organizationId });
    }),
  },
  Mutation: {
    createMeter: guarded(async (_parent, { input }, ctx) => {
      const organizationId = await org(ctx, 'meters:write');
      const { meters } = ctx.backends;
      const definition = meterDefinitionToProto({
        eventType: input.eventType,
        aggregation: input.aggregation,
        valuePath: input.valuePath ?? undefined,
        uniquePath: input.uniquePath ?? undefined,
        dimensions: dimensionsOf(input.dimensions ?? []),
      });
      return callUnary(
        'meters',
        meters.createMeter.bind(meters),
        { organizationId, slug: input.slug, name: input.name, description: input.description ?? '', definition, backfillFrom: input.backfillFrom ?? undefined },
        ctx.deadlineMs,
        { actingFor: organizationId },
      ).catch((err: unknown) => {
        throw inArgumentTerms(err, (field) => `input.${camelCaseField(field)}`);
      });
    }),
    updateMeter: guarded(async (_parent, { slug, input }, ctx) => {
      const organizationId = await org(ctx, 'meters:write');
      const { meters } = ctx.backends;
      const definition = changesDefinition(input) ? mergedDefinition(await getMeter(ctx, organizationId, slug), input) : undefined;
      return callUnary(
        'meters',
        meters.updateMeter.bind(meters),
        { organizationId, slug, name: input.name ?? undefined, description: input.description ?? undefined, definition },
        ctx.deadlineMs,
        { actingFor: organizationId },
      ).catch((err: unknown) => {
        throw inArgumentTerms(err, (field) => (field === 'slug' ? field : `input.${camelCaseField(field)}`));
      });
    }),
    archiveMeter: guarded(async (_parent, { slug }, ctx) => {
      const organizationId = await org(ctx, 'meters:write');
      const { meters } = ctx.backends;
      return callUnary('meters', meters.archiveMeter.bind(meters), { organizationId, slug }, ctx.deadlineMs, { actingFor: organizationId });
    }),
    startMeterBackfill: guarded(async (_parent, { slug, from, to }, ctx) => {
      const organizationId = await org(ctx, 'meters:write');
      const { meters } = ctx.backends;
      return callUnary(
        'meters',
        meters.startBackfill.bind(meters),
        { organizationId, slug, from: from ?? undefined, to: to ?? undefined },
        ctx.deadlineMs,
        { actingFor: organizationId },
      );
    }),
  },
  Meter: {
    status: (m) => m.status.toUpperCase(),
    eventType: (m) => definitionOf(m).eventType,
    aggregation: (m) => aggregationOf(definitionOf(m)),
    valuePath: (m) => definitionOf(m).valuePath || null,
    uniquePath: (m) => definitionOf(m).uniquePath || null,
    dimensions: (m) => definitionOf(m).dimensions,
    version: (m) => m.currentVersion?.version ?? 0,
    pendingVersion: (m) => m.pendingVersion?.version ?? null,
    latestBackfill: (m) => m.latestBackfill ?? null,
    createdAt: (m) => m.createdAt as Date,
    updatedAt: (m) => m.updatedAt as Date,
  },
  MeterBackfill: {
    id: (r) => r.backfillRunId,
    eventsDone: (r) => r.eventsDone,
    eventsTotal: (r) => r.eventsTotal,
    from: (r) => r.from ?? null,
    to: (r) => r.to ?? null,
    error: (r) => r.error || null,
    createdAt: (r) => r.createdAt as Date,
    finishedAt: (r) => r.finishedAt ?? null,
  },
} satisfies Resolvers;

async function org(ctx: GatewayContext, scope: 'usage:read' | 'meters:write'): Promise<string> {
  return (await ctx.principal(scope)).organizationId;
}

const dimensionsOf = (dims: readonly MeterDimensionInput[]) => dims.map(({ name, path }) => ({ name, path }));

function changesDefinition(input: UpdateMeterInput): boolean {
  return [input.eventType, input.aggregation, input.valuePath, input.uniquePath, input.dimensions].some((v) => v !== undefined);
}

/**
 * The full definition an update asks for: what the meter measures now, with the fields the
 * input gives replaced (null clears a path). The Meters service then decides whether that is a
 * new version.
 */
function mergedDefinition(meter: ProtoMeter, input: UpdateMeterInput): ProtoDefinition {
  const now = definitionOf(meter);
  return meterDefinitionToProto({
    eventType: input.eventType ?? now.eventType,
    aggregation: input.aggregation ?? aggregationOf(now),
    valuePath: input.valuePath === undefined ? now.valuePath || undefined : (input.valuePath ?? undefined),
    uniquePath: input.uniquePath === undefined ? now.uniquePath || undefined : (input.uniquePath ?? undefined),
    dimensions: input.dimensions ? dimensionsOf(input.dimensions) : now.dimensions,
  });
}
