import { PolarisError } from '@polaris/shared/errors';
import { requireOrganizationId } from '@polaris/shared/contracts';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { backfillRange } from './backfill-range';
import { meterArchived } from './meter-input';
import { backfillRunSchema, RUN_COLUMNS, RUNS_JOINED, type BackfillRun } from './meter-records';
import { liveVersions, lockMeter } from './meters.repository';

// Backfill runs as a tenant sees them: started and read within one organization. The sink-worker's
// side of the queue (claim, progress, completion) is backfill-queue.repository.ts.

const RUN_ID = /^[1-9]\d{0,18}$/;

/** A run id as the API carries it (uint64 as decimal text), checked before it reaches SQL. */
export function requireRunId(value: string, field = 'backfill_run_id'): string {
  if (!RUN_ID.test(value) || BigInt(value) > 9_223_372_036_854_775_807n) {
    throw new PolarisError('invalid_argument', 'invalid_backfill_run_id', `${field} must be a backfill run id (a positive integer)`, field);
  }
  return value;
}

const runNotFound = () => new PolarisError('not_found', 'backfill_run_not_found', 'no backfill run with this id in this organization', 'backfill_run_id');

/** A run of this organization, or undefined. */
export async function findRun(db: Queryable, organizationId: string, runId: string): Promise<BackfillRun | undefined> {
  const { rows } = await db.query(`SELECT ${RUN_COLUMNS} FROM ${RUNS_JOINED} WHERE r.organization_id = $1 AND r.id = $2::bigint`, [organizationId, runId]);
  return parseFirstRow('backfillRuns.find', backfillRunSchema, rows);
}

/**
 * Queues a rebuild of the meter's newest live version (the one still backfilling if a new
 * definition is pending, else the one answering) from its stored events, the whole history or
 * [from, to) in whole UTC days. A failed run is retried this way. Refused while a run of that
 * version is queued or running: two at once would only race to replace the same segments.
 */
async function start(db: Transactable, input: { organizationId: string; slug: string; from?: Date; to?: Date }): Promise<BackfillRun> {
  requireOrganizationId(input.organizationId);
  const { fromMs, toMs } = backfillRange(input.from, input.to);
  return withOrg(db, input.organizationId, async (tx) => {
    const meter = await lockMeter(tx, input.organizationId, input.slug);
    if (meter.status === 'archived') throw meterArchived(meter.slug);
    const [version] = await liveVersions(tx, meter);
    if (!version) throw new Error(`meter ${meter.id} has no live version`);
    const { rows: active } = await tx.query(
      `SELECT id::text AS id, state FROM meter_backfill_runs WHERE organization_id = $1 AND meter_version_id = $2 AND state IN ('queued', 'running') ORDER BY id LIMIT 1`,
      [meter.organizationId, version.id],
    );
    const busy = parseFirstRow('backfillRuns.active', z.object({ id: z.string(), state: z.string() }), active);
    if (busy) {
      throw new PolarisError(
        'failed_precondition',
        'backfill_in_progress',
        `backfill run ${busy.id} of meter ${JSON.stringify(meter.slug)} is ${busy.state}; wait for it to finish`,
        'slug',
      );
    }
    const { rows } = await tx.query(
      'INSERT INTO meter_backfill_runs (organization_id, meter_version_id, from_ms, to_ms) VALUES ($1, $2, $3, $4) RETURNING id::text AS id',
      [meter.organizationId, version.id, fromMs, toMs],
    );
    const inserted = parseFirstRow('backfillRuns.start', z.object({ id: z.string() }), rows);
    const run = inserted && (await findRun(tx, meter.organizationId, inserted.id));
    if (!run) throw new Error('INSERT … RETURNING returned no row');
    return run;
  });
}

/** A run by id, only within the caller's organization. */
async function get(db: Transactable, input: { organizationId: string; runId: string }): Promise<BackfillRun> {
  requireOrganizationId(input.organizationId);
  const runId = requireRunId(input.runId);
  const run = await withOrg(db, input.organizationId, (tx) => findRun(tx, input.organizationId, runId));
  if (!run) throw runNotFound();
  return run;
}

/** Backfill runs as a tenant starts and reads them. */
export const backfillRuns = { start, get };
