import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow } from '../rows';

// Writes that change what sinks extract. Each runs inside the caller's transaction, which must
// bump the revision (bumpCatalogRevision) before it commits.

const revisionSchema = z.object({ revision: z.string().regex(/^\d+$/) });

/**
 * The next catalog revision, for a transaction that changes the catalog. The UPDATE locks the one
 * row until commit, so revisions are committed in the order they are handed out, and a sync that
 * holds the row FOR SHARE (meter-catalog.repository.ts) sees either all of a change or none.
 */
export async function bumpCatalogRevision(tx: Queryable): Promise<string> {
  const { rows } = await tx.query('UPDATE meter_catalog_revision SET revision = revision + 1 RETURNING revision::text AS revision');
  const row = parseFirstRow('meterCatalog.bumpRevision', revisionSchema, rows);
  if (!row) throw new Error('meter_catalog_revision has no row: was the meters migration applied?');
  return row.revision;
}

/**
 * Ends the queued and running runs of these versions (a running worker learns it at its next
 * progress report: cancelled). Their rows in the rollups are never read: no segment names them.
 */
export async function endActiveRuns(tx: Queryable, versionIds: readonly string[], state: 'failed' | 'superseded', error: string): Promise<void> {
  if (versionIds.length === 0) return;
  await tx.query(
    `UPDATE meter_backfill_runs SET state = $2, error = $3, finished_at = now(), updated_at = now()
      WHERE meter_version_id = ANY($1::bigint[]) AND state IN ('queued', 'running')`,
    [versionIds, state, error],
  );
}

/** Retires versions (sinks stop extracting them at the next revision) and ends their runs. */
export async function retireVersions(tx: Queryable, versionIds: readonly string[], reason: string): Promise<void> {
  if (versionIds.length === 0) return;
  await tx.query(`UPDATE meter_versions SET state = 'retired' WHERE id = ANY($1::bigint[])`, [versionIds]);
  await endActiveRuns(tx, versionIds, 'superseded', reason);
}
