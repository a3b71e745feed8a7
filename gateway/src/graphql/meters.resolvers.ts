import type { Meter as ProtoMeter, MeterDefinition as ProtoDefinition } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import { meterAggregationName, meterDefinitionToProto, type MeterAggregation } from '@polaris/shared/meters';
import type { GatewayContext } from './context';
import { camelCaseField, inArgumentTerms } from './argument-names';
import { guarded } from './errors';
import type { MeterDimensionInput, Resolvers, UpdateMeterInput } from './generated/resolvers-types';

const MAX_PAGE = 200;

/** Meters of the key's organization, through the rating-worker's Meters service. */
export const metersResolvers = {
  Query: {
    meter: guarded(async (_parent, { slug }, ctx) => {
      const organizationId = await org(ctx, 'usage:read');
      return getMeter(ctx, organizationId, slug);
    }),
    meters: guarded(async (_parent, args, ctx) => {
      const organizationId = await org(ctx, 'usage:read');
      const first = args.first ?? 50;
      if (first < 1 || first > MAX_PAGE) throw new PolarisError('invalid_argument', 'invalid_page_size', `first must be between 1 and ${MAX_PAGE}`, 'first');
      const { meters } = ctx.backends;
      const res = await callUnary(
        'meters',
        meters.listMeters.bind(meters),
        { organizationId, includeArchived: args.includeArchived ?? false, pageSize: first, pageToken: args.after ?? '' },
        ctx.deadlineMs,
        { actingFor: organizationId },
      );
      return { nodes: res.meters, endCursor: res.nextPageToken || null, hasNextPage: res.nextPageToken !== '' };
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

function getMeter(ctx: GatewayContext, organizationId: string, slug: string): Promise<ProtoMeter> {
  const { meters } = ctx.backends;
  return callUnary('meters', meters.getMeter.bind(meters), { organizationId, slug }, ctx.deadlineMs, { actingFor: organizationId });
}

/** What the meter measures now: the version being built if there is one, else the one answering. */
function definitionOf(m: ProtoMeter): ProtoDefinition {
  const definition = (m.pendingVersion ?? m.currentVersion)?.definition;
  if (!definition) throw new PolarisError('internal', 'meter_without_version', `meter ${m.slug} came without a version`);
  return definition;
}

function aggregationOf(definition: ProtoDefinition): MeterAggregation {
  const name = meterAggregationName(definition.aggregation);
  if (!name) throw new PolarisError('internal', 'unknown_aggregation', 'the meters service answered an unknown aggregation');
  return name;
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
