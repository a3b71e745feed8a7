import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import { inTransaction, type Transactable } from '../transaction';
import { replaceSegments } from './backfill-segments';
import { requireRunId } from './backfill-runs.repository';
import { bumpCatalogRevision, retireVersions } from './catalog-changes';
import { CATALOG_VERSION_COLUMNS, catalogVersionSchema, requireInstanceId, type CatalogVersion } from './meter-catalog.repository';
import { backfillRunSchema, RUN_COLUMNS, RUNS_JOINED, segmentsSchema, type BackfillRun } from './meter-records';
import { recordBackfillCompleted } from './backfill-completed-event';

// The sink-worker's side of the backfill queue: claim a run, report progress (which keeps the
// claim), complete or fail it. The queue spans organizations and runs are addressed by id and the
// worker that claimed them, so which run (and whose) comes from the SECURITY DEFINER functions of
// migration 006 (polaris_next_backfill_candidate, polaris_backfill_run_organization); the work on
// the run then happens under withOrg of its organization.

export interface BackfillQueueSettings {
  /** How long a claim lasts without a progress report. */
  claimTtlMs: number;
  /** How long an expired sink lease still holds back backfills: an insert may still be in flight. */
  leaseGraceMs: number;
  /** Attempts of one range before a run whose claims keep expiring is failed instead of retried. */
  maxAttempts: number;
}

export interface ClaimedBackfill {
  run: BackfillRun;
  version: CatalogVersion;
  claimTtlMs: number;
}

const candidateSchema = z.object({
  id: z.string(),
  organizationId: z.guid(),
  meterVersionId: z.string(),
  state: z.enum(['queued', 'running']),
  attempts: z.number().int(),
  claimedBy: z.string().nullable(),
  fromMs: z.string().nullable(),
  toMs: z.string().nullable(),
});
const idSchema = z.object({ id: z.string() });
const pickedSchema = z.object({ runId: z.string(), organizationId: z.guid() });

const MAX_ERROR_LENGTH = 2000;
const notClaimed = (runId: string, workerId: string, state: string | undefined) =>
  new PolarisError(
    'failed_precondition',
    'backfill_not_claimed',
    state === undefined ? `no backfill run ${runId}` : `backfill run ${runId} is ${state}, not running under worker ${workerId}; stop working on it`,
    'backfill_run_id',
  );

/** A count as the API carries it, checked: a non-negative integer. */
export function requireCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new PolarisError('invalid_argument', 'invalid_event_count', `${field} must be a non-negative integer`, field);
  }
  return value;
}

const runOrganizationSchema = z.object({ organizationId: z.guid().nullable() });

/** Whose run this is (the worker reports by run id alone), through migration 006's SECURITY DEFINER function. */
async function organizationOfRun(db: Queryable, runId: string): Promise<string | undefined> {
  const { rows } = await db.query('SELECT polaris_backfill_run_organization($1::bigint) AS "organizationId"', [runId]);
  return parseFirstRow('backfillQueue.organizationOfRun', runOrganizationSchema, rows)?.organizationId ?? undefined;
}

async function runById(tx: Queryable, runId: string): Promise<BackfillRun | undefined> {
  const { rows } = await tx.query(`SELECT ${RUN_COLUMNS} FROM ${RUNS_JOINED} WHERE r.id = $1::bigint`, [runId]);
  return parseFirstRow('backfillQueue.run', backfillRunSchema, rows);
}

async function catalogVersion(tx: Queryable, versionId: string): Promise<CatalogVersion> {
  const { rows } = await tx.query(
    `SELECT ${CATALOG_VERSION_COLUMNS} FROM meter_versions v JOIN meters m ON m.id = v.meter_id AND m.organization_id = v.organization_id WHERE v.id = $1::bigint`,
    [versionId],
  );
  const version = parseFirstRow('backfillQueue.version', catalogVersionSchema, rows);
  if (!version) throw new Error(`meter version ${versionId} vanished while its run was locked`);
  return version;
}

/**
 * The oldest run that may start, or whose worker stopped reporting, locked for the rest of the
 * transaction. A run may start only when every sink lease (expired less than leaseGraceMs ago
 * included) holds its version's catalog revision or a later one: a sink on an older catalog could
 * still store events without the version, after the backfill has read past them. SKIP LOCKED:
 * workers never wait on each other. Across organizations, so the choice and the lock are the
 * SECURITY DEFINER function's; the run's details are read under withOrg of its organization.
 */
async function nextCandidate(tx: Queryable, settings: BackfillQueueSettings): Promise<z.infer<typeof candidateSchema> | undefined> {
  const { rows: next } = await tx.query('SELECT run_id::text AS "runId", organization_id AS "organizationId" FROM polaris_next_backfill_candidate($1)', [
    settings.leaseGraceMs,
  ]);
  const picked = parseFirstRow('backfillQueue.next', pickedSchema, next);
  if (!picked) return undefined;
  const { rows } = await withOrg(tx, picked.organizationId, (scoped) =>
    scoped.query(
      `SELECT r.id::text AS id, r.organization_id AS "organizationId", r.meter_version_id::text AS "meterVersionId", r.state, r.attempts,
              r.claimed_by AS "claimedBy", r.from_ms::text AS "fromMs", r.to_ms::text AS "toMs"
         FROM meter_backfill_runs r WHERE r.id = $1::bigint`,
      [picked.runId],
    ),
  );
  const candidate = parseFirstRow('backfillQueue.candidate', candidateSchema, rows);
  if (!candidate) throw new Error(`backfill run ${picked.runId} vanished while locked`);
  return candidate;
}

/**
 * Claims the next run for `workerId` until now() + claimTtlMs; undefined when none may start. A
 * running run whose claim expired is superseded by a fresh run over the same range (its rows in
 * the rollups are never read), which is claimed instead; after maxAttempts it fails.
 */
async function claim(db: Transactable, input: { workerId: string }, settings: BackfillQueueSettings): Promise<ClaimedBackfill | undefined> {
  const workerId = requireInstanceId(input.workerId, 'worker_id');
  return inTransaction(db, async (tx) => {
    for (;;) {
      const candidate = await nextCandidate(tx, settings);
      if (!candidate) return undefined;
      const outcome = await withOrg(tx, candidate.organizationId, (scoped) => claimCandidate(scoped, candidate, workerId, settings));
      if (outcome) return outcome;
    }
  });
}

/** Claims a locked candidate for `workerId`, under withOrg of its organization; undefined when it failed instead (too many attempts). */
async function claimCandidate(
  tx: Queryable,
  candidate: z.infer<typeof candidateSchema>,
  workerId: string,
  settings: BackfillQueueSettings,
): Promise<ClaimedBackfill | undefined> {
  let runId = candidate.id;
  const claimed = [workerId, settings.claimTtlMs];
  if (candidate.state === 'queued') {
    await tx.query(
      `UPDATE meter_backfill_runs SET state = 'running', claimed_by = $2, claimed_until = now() + $3 * interval '1 millisecond',
              started_at = now(), updated_at = now()
        WHERE id = $1`,
      [runId, ...claimed],
    );
  } else if (candidate.attempts >= settings.maxAttempts) {
    await tx.query(
      `UPDATE meter_backfill_runs SET state = 'failed', error = $2, finished_at = now(), updated_at = now() WHERE id = $1`,
      [runId, `gave up after ${candidate.attempts} attempts whose workers stopped reporting (last: ${candidate.claimedBy ?? '?'}); start the backfill again`],
    );
    const failed = await runById(tx, runId);
    if (failed) await recordRunFailed(tx, failed);
    return undefined;
  } else {
    const { rows } = await tx.query(
      `INSERT INTO meter_backfill_runs (organization_id, meter_version_id, from_ms, to_ms, state, claimed_by, claimed_until, attempts, started_at)
       VALUES ($1, $2, $3, $4, 'running', $5, now() + $6 * interval '1 millisecond', $7, now()) RETURNING id::text AS id`,
      [candidate.organizationId, candidate.meterVersionId, candidate.fromMs, candidate.toMs, ...claimed, candidate.attempts + 1],
    );
    const fresh = parseFirstRow('backfillQueue.retry', idSchema, rows);
    if (!fresh) throw new Error('INSERT … RETURNING returned no row');
    await tx.query(
      `UPDATE meter_backfill_runs SET state = 'superseded', superseded_by = $2, error = $3, finished_at = now(), updated_at = now() WHERE id = $1`,
      [runId, fresh.id, `worker ${candidate.claimedBy ?? '?'} stopped reporting; run ${fresh.id} took over`],
    );
    runId = fresh.id;
  }
  const run = await runById(tx, runId);
  if (!run) throw new Error(`backfill run ${runId} vanished while claimed`);
  return { run, version: await catalogVersion(tx, candidate.meterVersionId), claimTtlMs: settings.claimTtlMs };
}

/**
 * Records progress and extends the claim. `cancelled`: the run is no longer running under this
 * worker (superseded, its meter archived or redefined): the worker must stop.
 */
async function reportProgress(
  db: Transactable,
  input: { runId: string; workerId: string; eventsDone: number; eventsTotal: number },
  settings: Pick<BackfillQueueSettings, 'claimTtlMs'>,
): Promise<{ cancelled: boolean }> {
  const runId = requireRunId(input.runId);
  const workerId = requireInstanceId(input.workerId, 'worker_id');
  const eventsDone = requireCount(input.eventsDone, 'events_done');
  const eventsTotal = requireCount(input.eventsTotal, 'events_total');
  const organizationId = await organizationOfRun(db, runId);
  if (!organizationId) return { cancelled: true };
  const result = await withOrg(db, organizationId, (tx) =>
    tx.query(
      `UPDATE meter_backfill_runs SET events_done = $3, events_total = $4, claimed_until = now() + $5 * interval '1 millisecond', updated_at = now()
        WHERE id = $1::bigint AND state = 'running' AND claimed_by = $2`,
      [runId, workerId, eventsDone, eventsTotal, settings.claimTtlMs],
    ),
  );
  return { cancelled: (result.rowCount ?? 0) === 0 };
}

const lockedSchema = z.object({
  state: z.string(),
  claimedBy: z.string().nullable(),
  fromMs: z.string().nullable(),
  toMs: z.string().nullable(),
  versionId: z.string(),
  meterId: z.guid(),
  version: z.number().int(),
  segments: segmentsSchema,
});

/**
 * Completes a run, in one transaction: its range now answers from it (the version's segments
 * replace what overlapped), the version is ready, older versions of the meter are retired, and
 * the catalog revision moves on.
 */
async function complete(db: Transactable, input: { runId: string; workerId: string; eventsDone: number }): Promise<BackfillRun> {
  const runId = requireRunId(input.runId);
  const workerId = requireInstanceId(input.workerId, 'worker_id');
  const eventsDone = requireCount(input.eventsDone, 'events_done');
  const organizationId = await organizationOfRun(db, runId);
  if (!organizationId) throw notClaimed(runId, workerId, undefined);
  return withOrg(db, organizationId, async (tx) => {
    // The meter first, as every change to a meter locks it first: no deadlock with an update.
    const { rows: owner } = await tx.query(
      `SELECT v.meter_id AS id FROM meter_backfill_runs r JOIN meter_versions v ON v.id = r.meter_version_id WHERE r.id = $1::bigint`,
      [runId],
    );
    const meter = parseFirstRow('backfillQueue.meterOf', idSchema, owner);
    if (!meter) throw notClaimed(runId, workerId, undefined);
    await tx.query('SELECT 1 FROM meters WHERE id = $1 FOR UPDATE', [meter.id]);
    const { rows } = await tx.query(
      `SELECT r.state, r.claimed_by AS "claimedBy", r.from_ms::text AS "fromMs", r.to_ms::text AS "toMs",
              v.id::text AS "versionId", v.meter_id AS "meterId", v.version, v.segments
         FROM meter_backfill_runs r JOIN meter_versions v ON v.id = r.meter_version_id AND v.organization_id = r.organization_id
        WHERE r.id = $1::bigint
          -- NO KEY UPDATE: a concurrent claim inserting a run of this version (a key share on v) must not deadlock with this.
          FOR NO KEY UPDATE OF r, v`,
      [runId],
    );
    const locked = parseFirstRow('backfillQueue.lockForCompletion', lockedSchema, rows);
    if (!locked || locked.state !== 'running' || locked.claimedBy !== workerId) throw notClaimed(runId, workerId, locked?.state);

    // A whole-history run counts every event stored before the version was live, so it answers
    // for all event time: [0, ∞). Later events of the version are live rows (backfill_run = 0).
    const segments = replaceSegments(locked.segments, {
      run: runId,
      fromMs: locked.fromMs === null ? 0 : Number(locked.fromMs),
      toMs: locked.toMs === null ? null : Number(locked.toMs),
    });
    await tx.query(`UPDATE meter_versions SET state = 'ready', segments = $2::jsonb WHERE id = $1::bigint`, [locked.versionId, JSON.stringify(segments)]);
    const { rows: older } = await tx.query(`SELECT id::text AS id FROM meter_versions WHERE meter_id = $1 AND version < $2 AND state <> 'retired'`, [
      locked.meterId,
      locked.version,
    ]);
    await retireVersions(tx, parseRows('backfillQueue.olderVersions', idSchema, older).map((v) => v.id), `version ${locked.version} is ready`);
    await bumpCatalogRevision(tx);
    await tx.query(
      `UPDATE meter_backfill_runs SET state = 'completed', events_done = $2, events_total = GREATEST(events_total, $2), claimed_until = NULL,
              finished_at = now(), updated_at = now()
        WHERE id = $1::bigint`,
      [runId, eventsDone],
    );
    const run = await runById(tx, runId);
    if (!run) throw new Error(`backfill run ${runId} vanished while locked`);
    // The notification outbox, in this transaction: one meter.backfill_completed per completed run.
    await recordBackfillCompleted(tx, run, meter.id);
    return run;
  });
}

/** Fails a run with the worker's reason; StartBackfill can try again. */
async function fail(db: Transactable, input: { runId: string; workerId: string; error: string }): Promise<BackfillRun> {
  const runId = requireRunId(input.runId);
  const workerId = requireInstanceId(input.workerId, 'worker_id');
  const error = input.error.trim().slice(0, MAX_ERROR_LENGTH) || 'the backfill failed (no reason given)';
  const organizationId = await organizationOfRun(db, runId);
  if (!organizationId) throw notClaimed(runId, workerId, undefined);
  return withOrg(db, organizationId, async (tx) => {
    const result = await tx.query(
      `UPDATE meter_backfill_runs SET state = 'failed', error = $3, claimed_until = NULL, finished_at = now(), updated_at = now()
        WHERE id = $1::bigint AND state = 'running' AND claimed_by = $2`,
      [runId, workerId, error],
    );
    const run = await runById(tx, runId);
    if ((result.rowCount ?? 0) === 0 || !run) throw notClaimed(runId, workerId, run?.state);
    await recordRunFailed(tx, run);
    return run;
  });
}

/** The outbox's meter.backfill_completed with state `failed`, in the failing transaction. */
async function recordRunFailed(tx: Queryable, run: BackfillRun): Promise<void> {
  const { rows } = await tx.query(
    `SELECT v.meter_id AS id FROM meter_backfill_runs r JOIN meter_versions v ON v.id = r.meter_version_id WHERE r.id = $1::bigint`,
    [run.id],
  );
  const meter = parseFirstRow('backfillQueue.meterOfFailed', idSchema, rows);
  if (meter) await recordBackfillCompleted(tx, run, meter.id, 'failed');
}

/** The backfill queue as sink-workers work it. */
export const backfillQueue = { claim, reportProgress, complete, fail };
