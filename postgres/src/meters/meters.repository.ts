import { PolarisError } from '@polaris/shared/errors';
import { requireOrganizationId } from '@polaris/shared/contracts';
import { canonicalDefinition, checkMeterDefinition, checkMeterSlug, definitionsMeasureTheSame, type MeterDefinition } from '@polaris/shared/meters';
import { z } from 'zod';
import { isUniqueViolation } from '../pg-errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { backfillRange } from './backfill-range';
import { bumpCatalogRevision, endActiveRuns, retireVersions } from './catalog-changes';
import { isPossibleSlug, meterArchived, meterDescription, meterName, meterNotFound, requireOrganization } from './meter-input';
import { METER_COLUMNS, meterRowSchema, meterVersionSchema, VERSION_COLUMNS, type Meter, type MeterRow, type MeterVersion } from './meter-records';
import { meterViews } from './meter-views';
import { decodePageToken, encodePageToken, pageSize } from './page-token';

// The `meters` and `meter_versions` tables, for one organization at a time: every query is bound
// to the caller's organization_id, so another tenant's meter is not found, whatever its slug.

export interface CreateMeterInput {
  organizationId: string;
  slug: string;
  /** Default: the slug. */
  name?: string;
  description?: string;
  /** Checked here (checkMeterDefinition); stored canonical. */
  definition: unknown;
  /** Backfill from this UTC day on; unset: the whole stored history. */
  backfillFrom?: Date;
}

export interface UpdateMeterInput {
  organizationId: string;
  slug: string;
  name?: string;
  description?: string;
  /** Unset: unchanged. One that measures something else makes a new version. */
  definition?: unknown;
}

export interface ListMetersInput {
  organizationId: string;
  includeArchived?: boolean;
  pageSize?: number;
  pageToken?: string;
}

const idSchema = z.object({ id: z.string() });
const nextVersionSchema = z.object({ next: z.number().int().positive() });

/** A checked definition in its canonical spelling: what is stored and compared. */
const storable = (input: unknown): MeterDefinition => canonicalDefinition(checkMeterDefinition(input));

async function insertVersion(tx: Queryable, meter: MeterRow, version: number, definition: MeterDefinition, revision: string): Promise<string> {
  const { rows } = await tx.query(
    `INSERT INTO meter_versions (organization_id, meter_id, version, definition, catalog_revision, state)
     VALUES ($1, $2, $3, $4::jsonb, $5, 'backfilling') RETURNING id::text AS id`,
    [meter.organizationId, meter.id, version, JSON.stringify(definition), revision],
  );
  const inserted = parseFirstRow('meters.insertVersion', idSchema, rows);
  if (!inserted) throw new Error('INSERT … RETURNING returned no row');
  return inserted.id;
}

/** Queues the backfill of a version: its events stored before it was live (docs/meters.md). */
async function queueRun(tx: Queryable, organizationId: string, versionId: string, fromMs: number | null, toMs: number | null): Promise<void> {
  await tx.query('INSERT INTO meter_backfill_runs (organization_id, meter_version_id, from_ms, to_ms) VALUES ($1, $2, $3, $4)', [
    organizationId,
    versionId,
    fromMs,
    toMs,
  ]);
}

/** The meter, locked for the rest of the transaction: changes to one meter happen one at a time. */
export async function lockMeter(tx: Queryable, organizationId: string, slug: string): Promise<MeterRow> {
  requireOrganizationId(organizationId);
  if (!isPossibleSlug(slug)) throw meterNotFound(slug);
  const { rows } = await tx.query(`SELECT ${METER_COLUMNS} FROM meters m WHERE m.organization_id = $1 AND m.slug = $2 FOR UPDATE`, [organizationId, slug]);
  const meter = parseFirstRow('meters.lock', meterRowSchema, rows);
  if (!meter) throw meterNotFound(slug);
  return meter;
}

/** Versions not retired, newest first: at most a ready one and a newer one still backfilling. */
export async function liveVersions(tx: Queryable, meter: MeterRow): Promise<MeterVersion[]> {
  const { rows } = await tx.query(
    `SELECT ${VERSION_COLUMNS} FROM meter_versions v WHERE v.organization_id = $1 AND v.meter_id = $2 AND v.state <> 'retired' ORDER BY v.version DESC`,
    [meter.organizationId, meter.id],
  );
  return parseRows('meters.liveVersions', meterVersionSchema, rows);
}

async function view(tx: Queryable, meter: MeterRow): Promise<Meter> {
  const [shown] = await meterViews(tx, meter.organizationId, [meter]);
  if (!shown) throw new Error(`meter ${meter.id} vanished within its transaction`);
  return shown;
}

/**
 * Creates a meter with version 1, live from the next catalog revision, and queues its backfill
 * (the whole history, or from `backfillFrom`). One transaction: nothing is half-created.
 */
async function create(db: Transactable, input: CreateMeterInput): Promise<Meter> {
  requireOrganizationId(input.organizationId);
  const slug = checkMeterSlug(input.slug);
  const name = meterName(input.name?.trim() ? input.name : slug);
  const description = meterDescription(input.description ?? '');
  const definition = storable(input.definition);
  const { fromMs } = backfillRange(input.backfillFrom, undefined, { from: 'backfill_from', to: 'backfill_from' });
  return withOrg(db, input.organizationId, async (tx) => {
    await requireOrganization(tx, input.organizationId);
    let meter: MeterRow | undefined;
    try {
      const { rows } = await tx.query(
        `INSERT INTO meters AS m (organization_id, slug, name, description) VALUES ($1, $2, $3, $4) RETURNING ${METER_COLUMNS}`,
        [input.organizationId, slug, name, description],
      );
      meter = parseFirstRow('meters.create', meterRowSchema, rows);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new PolarisError('already_exists', 'meter_exists', `a meter with slug ${JSON.stringify(slug)} already exists in this organization`, 'slug');
      }
      throw error;
    }
    if (!meter) throw new Error('INSERT … RETURNING returned no row');
    // The revision last: the row lock it takes is held for as short a time as possible.
    const revision = await bumpCatalogRevision(tx);
    const versionId = await insertVersion(tx, meter, 1, definition, revision);
    await queueRun(tx, meter.organizationId, versionId, fromMs, null);
    return view(tx, meter);
  });
}

/**
 * Edits name and description in place. A definition that measures something else makes a new
 * version (backfilled while the ready one keeps answering); one that measures the same changes
 * nothing; one that measures what the ready version does drops the pending version instead.
 */
async function update(db: Transactable, input: UpdateMeterInput): Promise<Meter> {
  const name = input.name === undefined ? undefined : meterName(input.name);
  const description = input.description === undefined ? undefined : meterDescription(input.description);
  const definition = input.definition === undefined ? undefined : storable(input.definition);
  return withOrg(db, input.organizationId, async (tx) => {
    let meter = await lockMeter(tx, input.organizationId, input.slug);
    if (meter.status === 'archived') throw meterArchived(meter.slug);
    let changed = false;
    if (definition) changed = await redefine(tx, meter, definition);
    if ((name !== undefined && name !== meter.name) || (description !== undefined && description !== meter.description)) changed = true;
    if (changed) {
      const { rows } = await tx.query(
        `UPDATE meters AS m SET name = COALESCE($3, m.name), description = COALESCE($4, m.description), updated_at = now()
          WHERE m.organization_id = $1 AND m.id = $2 RETURNING ${METER_COLUMNS}`,
        [meter.organizationId, meter.id, name ?? null, description ?? null],
      );
      meter = parseFirstRow('meters.update', meterRowSchema, rows) ?? meter;
    }
    return view(tx, meter);
  });
}

/** Applies a new definition; true when the catalog changed. */
async function redefine(tx: Queryable, meter: MeterRow, definition: MeterDefinition): Promise<boolean> {
  const live = await liveVersions(tx, meter);
  const newest = live[0];
  if (newest && definitionsMeasureTheSame(newest.definition, definition)) return false;
  const ready = live.find((v) => v.state === 'ready');
  const pending = live.filter((v) => v.state === 'backfilling');
  if (ready && definitionsMeasureTheSame(ready.definition, definition)) {
    // Back to what already answers: the version being built is no longer wanted.
    await bumpCatalogRevision(tx);
    await retireVersions(tx, pending.map((v) => v.id), `the definition went back to version ${ready.version}`);
    return true;
  }
  const revision = await bumpCatalogRevision(tx);
  const { rows } = await tx.query('SELECT COALESCE(max(version), 0) + 1 AS next FROM meter_versions WHERE organization_id = $1 AND meter_id = $2', [
    meter.organizationId,
    meter.id,
  ]);
  const next = parseFirstRow('meters.nextVersion', nextVersionSchema, rows)?.next ?? 1;
  // A version still backfilling would never answer once a newer one exists: retire it now.
  await retireVersions(tx, pending.map((v) => v.id), `superseded by version ${next}`);
  const versionId = await insertVersion(tx, meter, next, definition, revision);
  await queueRun(tx, meter.organizationId, versionId, null, null);
  return true;
}

/**
 * Archives a meter: sinks stop extracting its versions at the next revision and its backfills
 * end. Stored usage stays. Archiving twice is harmless.
 */
async function archive(db: Transactable, input: { organizationId: string; slug: string }): Promise<Meter> {
  return withOrg(db, input.organizationId, async (tx) => {
    const meter = await lockMeter(tx, input.organizationId, input.slug);
    if (meter.status === 'archived') return view(tx, meter);
    const { rows } = await tx.query(
      `UPDATE meters AS m SET status = 'archived', updated_at = now() WHERE m.organization_id = $1 AND m.id = $2 RETURNING ${METER_COLUMNS}`,
      [meter.organizationId, meter.id],
    );
    const archived = parseFirstRow('meters.archive', meterRowSchema, rows);
    if (!archived) throw new Error('UPDATE … RETURNING returned no row');
    await bumpCatalogRevision(tx);
    const versions = await tx.query('SELECT id::text AS id FROM meter_versions WHERE organization_id = $1 AND meter_id = $2', [meter.organizationId, meter.id]);
    await endActiveRuns(tx, parseRows('meters.archiveVersions', idSchema, versions.rows).map((v) => v.id), 'failed', 'the meter was archived');
    return view(tx, archived);
  });
}

/** One page of an organization's meters, by slug. */
async function list(db: Transactable, input: ListMetersInput): Promise<{ meters: Meter[]; nextPageToken?: string }> {
  requireOrganizationId(input.organizationId);
  const size = pageSize(input.pageSize);
  const after = decodePageToken(input.pageToken);
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `SELECT ${METER_COLUMNS} FROM meters m
        WHERE m.organization_id = $1 AND ($2 OR m.status = 'active') AND ($3::text IS NULL OR m.slug > $3)
        ORDER BY m.slug LIMIT $4`,
      [input.organizationId, input.includeArchived ?? false, after ?? null, size + 1],
    );
    const found = parseRows('meters.list', meterRowSchema, rows);
    const page = found.slice(0, size);
    const last = page.at(-1);
    const meters = await meterViews(tx, input.organizationId, page);
    return found.length > size && last ? { meters, nextPageToken: encodePageToken(last.slug) } : { meters };
  });
}

/** The organization's meter with this slug, archived or not. */
async function get(db: Transactable, input: { organizationId: string; slug: string }): Promise<Meter> {
  requireOrganizationId(input.organizationId);
  if (!isPossibleSlug(input.slug)) throw meterNotFound(input.slug);
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(`SELECT ${METER_COLUMNS} FROM meters m WHERE m.organization_id = $1 AND m.slug = $2`, [input.organizationId, input.slug]);
    const meter = parseFirstRow('meters.get', meterRowSchema, rows);
    if (!meter) throw meterNotFound(input.slug);
    const [shown] = await meterViews(tx, input.organizationId, [meter]);
    if (!shown) throw meterNotFound(input.slug);
    return shown;
  });
}

/**
 * The organization's meters among `slugs`, archived or not, in one query for the meters and one
 * for their versions (any order): a slug that cannot be one, unknown, or another organization's is
 * left out. The batch lookups (BatchGetMeters) call it with a bounded list.
 */
async function getMany(db: Transactable, input: { organizationId: string; slugs: readonly string[] }): Promise<Meter[]> {
  requireOrganizationId(input.organizationId);
  const slugs = [...new Set(input.slugs.filter(isPossibleSlug))];
  if (slugs.length === 0) return [];
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(`SELECT ${METER_COLUMNS} FROM meters m WHERE m.organization_id = $1 AND m.slug = ANY($2::text[])`, [input.organizationId, slugs]);
    return meterViews(tx, input.organizationId, parseRows('meters.getMany', meterRowSchema, rows));
  });
}

/** The `meters` and `meter_versions` tables, per organization: the only code that writes them. */
export const meters = { create, update, archive, list, get, getMany };
