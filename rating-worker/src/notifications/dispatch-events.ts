import type { Queue } from 'bullmq';
import { webhookDispatch, type Pool, type QueuedDelivery } from '@polaris/postgres';
import type { Logger } from '@polaris/shared/service';
import { invoiceFinalizedEmail, thresholdCrossedEmail, type InvoiceEmailInput, type ThresholdEmailInput } from './email-templates';
import type { NotificationMetrics } from './notification-metrics';
import { deliverJobId, NOTIFICATION_JOBS, type EmailPayload } from './notifications-queue';

// The dispatcher (the `webhook-dispatch` job, repeated): fans the outbox's new events out into
// deliveries, one per matching enabled endpoint, and queues a delivery job for each after the
// fan-out committed. A crash between the commit and the queue add leaves a pending delivery
// without a job; the stall sweep below queues it again (same job id, so never twice).

export interface DispatchSettings {
  /** Events per run; a full batch is followed by another right away. */
  batchSize: number;
  stallMs: number;
}

export interface DeliverJobOptions {
  attempts: number;
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number };
}

export function deliverJob(d: QueuedDelivery, opts: DeliverJobOptions) {
  return {
    name: NOTIFICATION_JOBS.deliver,
    data: { organizationId: d.organizationId, deliveryId: d.deliveryId, replay: d.replays },
    opts: { ...opts, jobId: deliverJobId({ deliveryId: d.deliveryId, replay: d.replays }), backoff: { type: 'webhook' } },
  };
}

export async function dispatchEvents(
  deps: { pool: Pool; queue: Queue; logger: Logger; metrics: NotificationMetrics; jobOptions: DeliverJobOptions; emailJobOptions: object },
  settings: DispatchSettings,
): Promise<{ events: number; deliveries: number; requeued: number }> {
  const { pool, queue } = deps;
  let events = 0;
  let deliveries = 0;
  for (;;) {
    const batch = await webhookDispatch.undispatchedEvents(pool, settings.batchSize);
    // One transaction per organization for its events of the batch.
    const byOrg = new Map<string, string[]>();
    for (const { eventId, organizationId } of batch) byOrg.set(organizationId, [...(byOrg.get(organizationId) ?? []), eventId]);
    for (const [organizationId, eventIds] of byOrg) {
      const fanned = await webhookDispatch.fanOut(pool, organizationId, eventIds);
      if (fanned.deliveries.length > 0) await queue.addBulk(fanned.deliveries.map((d) => deliverJob(d, deps.jobOptions)));
      deliveries += fanned.deliveries.length;
      deps.metrics.dispatched(fanned.deliveries.length);
      for (const event of fanned.events) {
        if (event.type === 'invoice.finalized') await queueInvoiceEmail(deps, organizationId, event.id, event.payload);
        if (event.type === 'usage.threshold_crossed') await queueThresholdEmail(deps, organizationId, event.id, event.payload);
      }
    }
    events += batch.length;
    if (batch.length < settings.batchSize) break;
  }
  const stalled = await webhookDispatch.stalledDeliveries(pool, settings.stallMs, settings.batchSize);
  if (stalled.length > 0) {
    await queue.addBulk(stalled.map((d) => deliverJob(d, deps.jobOptions)));
    const stalledByOrg = new Map<string, string[]>();
    for (const d of stalled) stalledByOrg.set(d.organizationId, [...(stalledByOrg.get(d.organizationId) ?? []), d.deliveryId]);
    for (const [org, ids] of stalledByOrg) await webhookDispatch.touchPending(pool, org, ids);
    deps.logger.info({ count: stalled.length }, 'pending webhook deliveries queued again');
  }
  return { events, deliveries, requeued: stalled.length };
}

/** invoice.finalized: the invoice email to the customer's address, when it has one. */
async function queueInvoiceEmail(deps: { pool: Pool; queue: Queue; emailJobOptions: object }, organizationId: string, eventId: string, payload: unknown): Promise<void> {
  const invoice = (payload as { invoice?: InvoiceEmailInput & { customerId?: string } }).invoice;
  if (!invoice?.customerId) return;
  const to = await webhookDispatch.customerEmail(deps.pool, organizationId, invoice.customerId);
  if (!to) return;
  const email: EmailPayload = { to, ...invoiceFinalizedEmail(invoice) };
  await deps.queue.add(NOTIFICATION_JOBS.email, email, { ...deps.emailJobOptions, jobId: `email.invoice-finalized.${eventId}` });
}

/** usage.threshold_crossed: the crossing email to the customer's address, when it has one. */
async function queueThresholdEmail(deps: { pool: Pool; queue: Queue; emailJobOptions: object }, organizationId: string, eventId: string, payload: unknown): Promise<void> {
  const crossing = payload as ThresholdEmailInput & { customerId?: string };
  if (!crossing.customerId) return;
  const to = await webhookDispatch.customerEmail(deps.pool, organizationId, crossing.customerId);
  if (!to) return;
  const email: EmailPayload = { to, ...thresholdCrossedEmail(crossing) };
  // The job id makes a repeated fan-out (a crash before dispatched_at was set) queue one email.
  await deps.queue.add(NOTIFICATION_JOBS.email, email, { ...deps.emailJobOptions, jobId: `email.threshold-crossed.${eventId}` });
}
