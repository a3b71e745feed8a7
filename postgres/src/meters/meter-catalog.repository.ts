import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { inTransaction, type Transactable } from '../transaction';
import { meterVersionSchema } from './meter-records';

// What every sink loads: the live meter versions of all organizations, at one catalog revision,
// and the lease that tells backfills which revision each storing sink holds (docs/meters.md,
// "Catalog revisions, leases and backfill"). Not scoped to one organization: the sink-worker's.
// The versions come through polaris_meter_catalog_versions() (migration 006), the only read of
// tenant rows here; leases and the revision are not tenant data.

/** A version the sinks extract. */
export const catalogVersionSchema = z.object({
  organizationId: z.guid(),
  meterSlug: z.string(),
  meterVersionId: meterVersionSchema.shape.id,
  catalogRevision: meterVersionSchema.shape.catalogRevision,
  definition: meterVersionSchema.shape.definition,
});
export type CatalogVersion = z.infer<typeof catalogVersionSchema>;

export const CATALOG_VERSION_COLUMNS = `v.organization_id AS "organizationId", m.slug AS "meterSlug", v.id::text AS "meterVersionId",
  v.catalog_revision::text AS "catalogRevision", v.definition`;

export interface CatalogSnapshot {
  revision: string;
  versions: CatalogVersion[];
}

/** How long a lease lasts and how long an expired one still holds back backfills. */
export interface LeaseSettings {
  leaseTtlMs: number;
}

/** An instance or worker id: what names a sink process in leases and claims. */
export function requireInstanceId(value: string, field: string): string {
  if (value.trim() === '' || value.length > 200) {
    throw new PolarisError('invalid_argument', 'invalid_instance_id', `${field} must be 1 to 200 characters, stable for the process`, field);
  }
  return value;
}

const revisionSchema = z.object({ revision: z.string() });

/**
 * The catalog at its current revision and, with `takeLease`, a lease on that revision until
 * now() + leaseTtlMs. The revision row is held FOR SHARE from the first read to the commit: no
 * catalog change can commit in between (each one bumps that row), so the versions are exactly
 * those of the revision returned, and the lease is committed before any later revision is. A
 * backfill that checks leases after its version committed therefore sees every sink still on an
 * older catalog.
 */
async function sync(
  db: Transactable,
  input: { instanceId: string; takeLease: boolean; holdingRevision?: string },
  settings: LeaseSettings,
): Promise<CatalogSnapshot> {
  const instanceId = requireInstanceId(input.instanceId, 'instance_id');
  return inTransaction(db, async (tx: Queryable) => {
    const { rows: revisionRows } = await tx.query('SELECT revision::text AS revision FROM meter_catalog_revision FOR SHARE');
    const current = parseFirstRow('meterCatalog.revision', revisionSchema, revisionRows);
    if (!current) throw new Error('meter_catalog_revision has no row: was the meters migration applied?');
    // Every organization's versions: through the SECURITY DEFINER function of migration 006.
    const { rows } = await tx.query(
      `SELECT organization_id AS "organizationId", meter_slug AS "meterSlug", meter_version_id::text AS "meterVersionId",
              catalog_revision::text AS "catalogRevision", definition
         FROM polaris_meter_catalog_versions()`,
    );
    const versions = parseRows('meterCatalog.versions', catalogVersionSchema, rows);
    if (input.takeLease) {
      await tx.query(
        `INSERT INTO sink_catalog_leases (instance_id, revision, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (instance_id) DO UPDATE SET revision = EXCLUDED.revision, expires_at = EXCLUDED.expires_at, updated_at = now()`,
        [instanceId, leaseRevision(current.revision, input.holdingRevision), settings.leaseTtlMs],
      );
      // Leases of sinks gone for a day hold nothing back; drop them so the table stays small.
      await tx.query(`DELETE FROM sink_catalog_leases WHERE expires_at < now() - interval '1 day'`);
    }
    return { revision: current.revision, versions };
  });
}

/** The meter catalog as sinks read it. */
/**
 * The revision a lease holds: the one returned, unless the sink still has an INSERT in flight
 * stamped with an older one. Leasing the new revision then would let a backfill start and read
 * past that INSERT, which neither the backfill nor the live path would count.
 */
function leaseRevision(current: string, holding: string | undefined): string {
  if (holding === undefined || holding === '' || !/^\d+$/.test(holding)) return current;
  return BigInt(holding) < BigInt(current) ? holding : current;
}

export const meterCatalog = { sync };
