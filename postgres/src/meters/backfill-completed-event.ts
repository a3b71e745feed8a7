import type { Queryable } from '../pool';
import { notificationEvents } from '../notifications/notification-events.repository';
import { ORG_SETTING } from '../tenant-scope';
import type { BackfillRun } from './meter-records';

/**
 * Records `meter.backfill_completed` for a run that just ended (completed, or failed for good), in the completing transaction
 * (the outbox): the event exists exactly when the completion commits, once per run. The completion
 * is a call of no organization (the sink's CompleteBackfill), so the run's own organization is set
 * for the rest of this transaction first: the outbox's row-level security accepts only its rows.
 */
export async function recordBackfillCompleted(tx: Queryable, run: BackfillRun, meterId: string, state: 'succeeded' | 'failed' = 'succeeded'): Promise<void> {
  await tx.query(`SELECT set_config('${ORG_SETTING}', $1, true)`, [run.organizationId]);
  const finishedAt = run.finishedAt ?? new Date();
  await notificationEvents.record(tx, {
    organizationId: run.organizationId,
    type: 'meter.backfill_completed',
    dedupeKey: `meter.backfill_completed:${run.id}`,
    occurredAt: finishedAt,
    // The catalogue's meter.backfill_completed v1 (postgres/src/notifications/event-catalogue.ts).
    // A whole-history run covers event time from the epoch to its completion.
    payload: {
      meter: { id: meterId, slug: run.meterSlug, version: run.meterVersion },
      run: {
        id: run.id,
        from: new Date(run.fromMs ?? 0).toISOString(),
        to: new Date(run.toMs ?? finishedAt.getTime()).toISOString(),
        state,
      },
    },
  });
}
