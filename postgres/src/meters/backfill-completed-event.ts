import type { Queryable } from '../pool';
import { notificationEvents } from '../notifications/notification-events.repository';
import { ORG_SETTING } from '../tenant-scope';
import type { BackfillRun } from './meter-records';

/**
 * Records `meter.backfill_completed` for a run that just completed, in the completing transaction
 * (the outbox): the event exists exactly when the completion commits, once per run. The completion
 * is a call of no organization (the sink's CompleteBackfill), so the run's own organization is set
 * for the rest of this transaction first: the outbox's row-level security accepts only its rows.
 */
export async function recordBackfillCompleted(tx: Queryable, run: BackfillRun): Promise<void> {
  await tx.query(`SELECT set_config('${ORG_SETTING}', $1, true)`, [run.organizationId]);
  await notificationEvents.record(tx, {
    organizationId: run.organizationId,
    type: 'meter.backfill_completed',
    dedupeKey: `meter.backfill_completed:${run.id}`,
    occurredAt: run.finishedAt ?? new Date(),
    payload: {
      backfillRunId: run.id,
      meterSlug: run.meterSlug,
      meterVersion: run.meterVersion,
      meterVersionId: run.meterVersionId,
      eventsDone: run.eventsDone,
      // Event time covered, epoch ms; null = unbounded (a whole-history run).
      fromMs: run.fromMs,
      toMs: run.toMs,
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
    },
  });
}
