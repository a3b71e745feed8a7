import type { Queue } from 'bullmq';
import { billingCycle, invoices, type Pool } from '@polaris/postgres';
import { finalizeJobId, RATING_JOBS, ratePeriodJobId, workJobOptions, type FinalizePayload, type RatePeriodPayload, type RatingJobSettings } from './rating-queue';

// One run of the `rating-scan` scheduler: every due period becomes a rate-period job and every
// draft past its grace a finalize job, by deterministic ids, so scans that overlap (several
// replicas, a slow one) queue each once. Pages through PostgreSQL by keyset: a month boundary with
// 10,000 subscriptions due is queued in one scan, not 1,000 a minute.

const PAGE = 1_000;

export interface ScanSettings extends RatingJobSettings {
  settleMs: number;
}

export async function scanForRating(pool: Pool, queue: Queue, settings: ScanSettings): Promise<{ periods: number; finalizations: number }> {
  const options = workJobOptions(settings);
  let periods = 0;
  let after: { periodEnd: Date; subscriptionId: string } | undefined;
  for (;;) {
    const due = await billingCycle.dueSubscriptions(pool, { settleMs: settings.settleMs, limit: PAGE, ...(after ? { after } : {}) });
    if (due.length === 0) break;
    await queue.addBulk(
      due.map((d) => {
        const data: RatePeriodPayload = { organizationId: d.organizationId, subscriptionId: d.subscriptionId, periodStartMs: d.period.start.getTime() };
        return { name: RATING_JOBS.ratePeriod, data, opts: { ...options, jobId: ratePeriodJobId(data) } };
      }),
    );
    periods += due.length;
    const last = due.at(-1);
    if (!last || due.length < PAGE) break;
    after = { periodEnd: last.period.end, subscriptionId: last.subscriptionId };
  }

  let finalizations = 0;
  let afterDraft: { finalizeAfter: Date; invoiceId: string } | undefined;
  for (;;) {
    const due = await invoices.dueForFinalization(pool, { limit: PAGE, ...(afterDraft ? { after: afterDraft } : {}) });
    if (due.length === 0) break;
    await queue.addBulk(
      due.map((d) => {
        const data: FinalizePayload = { organizationId: d.organizationId, invoiceId: d.invoiceId };
        return { name: RATING_JOBS.finalize, data, opts: { ...options, jobId: finalizeJobId(data) } };
      }),
    );
    finalizations += due.length;
    const last = due.at(-1);
    if (!last || due.length < PAGE) break;
    afterDraft = { finalizeAfter: last.finalizeAfter, invoiceId: last.invoiceId };
  }
  return { periods, finalizations };
}
