import type { Meter as ProtoMeter, MeterDefinition as ProtoDefinition } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import { meterAggregationName, type MeterAggregation } from '@polaris/shared/meters';
import type { GatewayContext } from './context';

/** One meter of the organization, by slug, from the Meters service (not_found meter_not_found otherwise). */
export function getMeter(ctx: GatewayContext, organizationId: string, slug: string): Promise<ProtoMeter> {
  const { meters } = ctx.backends;
  return callUnary('meters', meters.getMeter.bind(meters), { organizationId, slug }, ctx.deadlineMs, { actingFor: organizationId });
}

/** What the meter measures now: the version being built if there is one, else the one answering. */
export function definitionOf(m: ProtoMeter): ProtoDefinition {
  const definition = (m.pendingVersion ?? m.currentVersion)?.definition;
  if (!definition) throw new PolarisError('internal', 'meter_without_version', `meter ${m.slug} came without a version`);
  return definition;
}

export function aggregationOf(definition: ProtoDefinition): MeterAggregation {
  const name = meterAggregationName(definition.aggregation);
  if (!name) throw new PolarisError('internal', 'unknown_aggregation', 'the meters service answered an unknown aggregation');
  return name;
}

/**
 * The meter a nested row names (a price, an invoice line), batched with the page's other rows
 * (loaders.ts); null for no slug. Meter definitions are usage data: the key needs usage:read,
 * whatever the root field it came through.
 */
export async function meterOfRow(ctx: GatewayContext, slug: string): Promise<ProtoMeter | null> {
  if (!slug) return null;
  await ctx.principal('usage:read');
  return ctx.loaders.meter.load(slug);
}
