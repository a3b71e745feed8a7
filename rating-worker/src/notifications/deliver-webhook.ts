import type { Job } from 'bullmq';
import { webhookDispatch, type AttemptTrigger, type Pool, type WebhookEndpoint } from '@polaris/postgres';
import type { Logger } from '@polaris/shared/service';
import type { NotificationMetrics } from './notification-metrics';
import type { DeliverPayload } from './notifications-queue';
import { signatureHeaders, webhookBody } from './webhook-signature';
import type { WebhookSender } from './webhook-sender';

// One run of a delivery job: one HTTP attempt, recorded with its outcome in the same transaction
// as the delivery's new status. A failure that has attempts left throws, so BullMQ retries it
// after the backoff; the webhook-id stays the delivery's, so receivers deduplicate retries.

export interface DeliverDeps {
  pool: Pool;
  sender: WebhookSender;
  metrics: NotificationMetrics;
  logger: Logger;
  disableAfterMs: number;
  /** Tells the org an endpoint was disabled (queues the email). */
  endpointDisabled(endpoint: WebhookEndpoint): Promise<void>;
}

export class RetryableDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableDeliveryError';
  }
}

export type DeliverOutcome = 'delivered' | 'failed' | 'retrying' | 'skipped';

export async function deliverWebhook(deps: DeliverDeps, job: Pick<Job, 'attemptsMade' | 'opts'>, payload: DeliverPayload): Promise<{ outcome: DeliverOutcome }> {
  const { pool, sender, metrics } = deps;
  const delivery = await webhookDispatch.sendable(pool, payload.organizationId, payload.deliveryId);
  // Gone with its endpoint, or already settled (a duplicate job): nothing to send.
  if (!delivery || delivery.status !== 'pending') return { outcome: 'skipped' };
  const trigger: AttemptTrigger = payload.replay > 0 ? 'replay' : job.attemptsMade > 0 ? 'retry' : 'initial';
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const startedAt = new Date();
  const base = { organizationId: delivery.organizationId, deliveryId: delivery.deliveryId, endpointId: delivery.endpointId, trigger, startedAt, disableAfterMs: deps.disableAfterMs };

  if (!delivery.endpointEnabled) {
    await webhookDispatch.recordAttempt(pool, { ...base, outcome: 'endpoint_disabled', durationMs: 0, responseExcerpt: '', error: 'endpoint disabled', final: true });
    metrics.attempt('endpoint_disabled', 0);
    return { outcome: 'failed' };
  }

  const body = webhookBody(delivery.event);
  const result = await sender.send(delivery.url, body, signatureHeaders(delivery.secrets, delivery.deliveryId, body, startedAt));
  const delivered = result.outcome === 'delivered';
  const { disabled } = await webhookDispatch.recordAttempt(pool, { ...base, ...result, final: delivered || lastAttempt });
  metrics.attempt(result.outcome, result.durationMs / 1000);
  if (delivered) {
    metrics.delivered((Date.now() - delivery.event.createdAt.getTime()) / 1000);
    return { outcome: 'delivered' };
  }
  if (disabled) {
    deps.logger.warn({ endpointId: disabled.id, organizationId: disabled.organizationId, reason: disabled.disabledReason }, 'webhook endpoint disabled');
    await deps.endpointDisabled(disabled);
    return { outcome: 'failed' };
  }
  // Thrown on the last attempt too: the job then stays in the failed set, where operators see it.
  throw new RetryableDeliveryError(`delivery ${delivery.deliveryId} attempt failed: ${result.error ?? result.outcome}`);
}
