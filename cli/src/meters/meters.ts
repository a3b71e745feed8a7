import { backfillRuns, meters, type BackfillRun, type Meter, type Organization, type Transactable } from '@polaris/postgres';
import { PolarisError } from '@polaris/shared/errors';
import { CliError } from '../errors';
import { findOrganization } from '../identity/organizations';
import { definitionFromFlags, flagOf, mergeDefinition, type DefinitionFlags } from './meter-flags';

// What the `meter` commands do, through the meter repositories of @polaris/postgres (the same
// code the rating-worker serves gRPC with), with refusals worded for the terminal.

/** A refusal of the repository as a CliError; bad input also names the flag to fix. */
export function meterCliError(error: unknown): unknown {
  if (!(error instanceof PolarisError) || error.kind === 'internal' || error.kind === 'unavailable') return error;
  const flag = error.kind === 'invalid_argument' ? flagOf(error.field) : undefined;
  return new CliError(flag && !error.message.includes(flag) ? `${error.message} (${flag})` : error.message);
}

async function refusalsForTerminal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw meterCliError(error);
  }
}

export interface MeterTarget {
  org: string;
  slug: string;
}

export async function createMeter(
  db: Transactable,
  input: MeterTarget & DefinitionFlags & { name?: string; description?: string; backfillFrom?: Date },
): Promise<{ organization: Organization; meter: Meter }> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    const meter = await meters.create(db, {
      organizationId: organization.id,
      slug: input.slug,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      definition: definitionFromFlags(input),
      ...(input.backfillFrom ? { backfillFrom: input.backfillFrom } : {}),
    });
    return { organization, meter };
  });
}

/** Every meter of the organization, page after page, by slug. */
export async function listMeters(db: Transactable, input: { org: string; includeArchived: boolean }): Promise<{ organization: Organization; meters: Meter[] }> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    const all: Meter[] = [];
    let pageToken: string | undefined;
    do {
      const page = await meters.list(db, { organizationId: organization.id, includeArchived: input.includeArchived, pageSize: 200, ...(pageToken ? { pageToken } : {}) });
      all.push(...page.meters);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return { organization, meters: all };
  });
}

export async function getMeter(db: Transactable, input: MeterTarget): Promise<{ organization: Organization; meter: Meter }> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, meter: await meters.get(db, { organizationId: organization.id, slug: input.slug }) };
  });
}

/**
 * Updates a meter; definition flags apply over its newest live definition (the pending one if a
 * change is still backfilling), so `--aggregation MAX` alone changes the aggregation only.
 */
export async function updateMeter(
  db: Transactable,
  input: MeterTarget & DefinitionFlags & { name?: string; description?: string },
): Promise<{ organization: Organization; meter: Meter; newVersion: boolean }> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    const target = { organizationId: organization.id, slug: input.slug };
    const before = await meters.get(db, target);
    const definition = mergeDefinition((before.pendingVersion ?? before.currentVersion).definition, input);
    if (input.name === undefined && input.description === undefined && definition === undefined) {
      throw new CliError('nothing to change: give --name, --description or a definition flag (--event-type, --aggregation, --value-path, --unique-path, --dimension)');
    }
    const meter = await meters.update(db, {
      ...target,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(definition !== undefined ? { definition } : {}),
    });
    const newest = (m: Meter) => (m.pendingVersion ?? m.currentVersion).id;
    return { organization, meter, newVersion: newest(meter) !== newest(before) };
  });
}

export async function archiveMeter(db: Transactable, input: MeterTarget): Promise<{ organization: Organization; meter: Meter }> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, meter: await meters.archive(db, { organizationId: organization.id, slug: input.slug }) };
  });
}

export async function startBackfill(db: Transactable, input: MeterTarget & { from?: Date; to?: Date }): Promise<{ organization: Organization; run: BackfillRun }> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    const run = await backfillRuns.start(db, {
      organizationId: organization.id,
      slug: input.slug,
      ...(input.from ? { from: input.from } : {}),
      ...(input.to ? { to: input.to } : {}),
    });
    return { organization, run };
  });
}

export const getBackfillRun = (db: Transactable, organizationId: string, runId: string): Promise<BackfillRun> =>
  refusalsForTerminal(() => backfillRuns.get(db, { organizationId, runId }));
