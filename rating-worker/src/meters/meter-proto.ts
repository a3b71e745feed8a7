import type { BackfillRun as StoredRun, CatalogVersion, Meter as StoredMeter, MeterVersion as StoredVersion } from '@polaris/postgres';
import { PolarisError } from '@polaris/shared/errors';
import { meterDefinitionFromProto, meterDefinitionToProto, type MeterDefinition as StoredDefinition } from '@polaris/shared/meters';
import { type BackfillRun, type CatalogMeterVersion, type Meter, type MeterDefinition, type MeterVersion } from '@polaris/proto';

// The one place meters cross between proto and the repositories: enums, uint64 text, timestamps.

/** A proto definition as checkMeterDefinition takes it; see @polaris/shared/meters. */
export const definitionFromProto = meterDefinitionFromProto;
export const definitionToProto = (definition: StoredDefinition): MeterDefinition => meterDefinitionToProto(definition);

const time = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

export function versionToProto(version: StoredVersion): MeterVersion {
  return {
    meterVersionId: version.id,
    version: version.version,
    definition: definitionToProto(version.definition),
    catalogRevision: version.catalogRevision,
    state: version.state,
    segments: version.segments.map((s) => ({ backfillRunId: s.run, from: new Date(s.fromMs), to: time(s.toMs) })),
    createdAt: version.createdAt,
  };
}

export function runToProto(run: StoredRun): BackfillRun {
  return {
    backfillRunId: run.id,
    organizationId: run.organizationId,
    meterSlug: run.meterSlug,
    meterVersionId: run.meterVersionId,
    state: run.state,
    eventsDone: String(run.eventsDone),
    eventsTotal: String(run.eventsTotal),
    from: time(run.fromMs),
    to: time(run.toMs),
    error: run.error ?? '',
    createdAt: run.createdAt,
    finishedAt: run.finishedAt ?? undefined,
    supersededByRunId: run.supersededBy ?? '',
    attempts: run.attempts,
  };
}

export function meterToProto(meter: StoredMeter): Meter {
  return {
    id: meter.id,
    organizationId: meter.organizationId,
    slug: meter.slug,
    name: meter.name,
    description: meter.description,
    status: meter.status,
    currentVersion: versionToProto(meter.currentVersion),
    pendingVersion: meter.pendingVersion && versionToProto(meter.pendingVersion),
    latestBackfill: meter.latestBackfill && runToProto(meter.latestBackfill),
    createdAt: meter.createdAt,
    updatedAt: meter.updatedAt,
  };
}

export function catalogVersionToProto(version: CatalogVersion): CatalogMeterVersion {
  return {
    organizationId: version.organizationId,
    meterSlug: version.meterSlug,
    meterVersionId: version.meterVersionId,
    catalogRevision: version.catalogRevision,
    definition: definitionToProto(version.definition),
  };
}

/** A uint64 count (decimal text on the wire) as a number, refused past 2^53 rather than rounded. */
export function countFromProto(value: string, field: string): number {
  const count = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(count)) throw new PolarisError('invalid_argument', 'invalid_event_count', `${field} must be a non-negative integer below 2^53`, field);
  return count;
}
