import type { Queue } from 'bullmq';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registerQueueDepthGauge } from '../jobs/queue-depth-gauge';

// The notifier on the service's Prometheus registry: attempts by outcome, their latency, the time
// from an event's record in the outbox to its delivery, emails, and what waits in the queue.

export interface NotificationMetrics {
  attempt(outcome: string, seconds: number): void;
  /** A 2xx for a delivery's first success: outbox record → delivered. */
  delivered(sinceRecordedSeconds: number): void;
  dispatched(deliveries: number): void;
  email(outcome: 'sent' | 'failed'): void;
}

export function createNotificationMetrics(registry: Registry, queue?: Queue): NotificationMetrics {
  const attempts = new Counter({
    name: 'webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (delivered | http_error | timeout | network_error | blocked_target | endpoint_disabled)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: 'Time of one webhook HTTP attempt, request to the end of the read excerpt',
    registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const endToEnd = new Histogram({
    name: 'webhook_event_to_delivery_seconds',
    help: 'From the event recorded in the outbox to its webhook delivered (first success of a delivery)',
    registers: [registry],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
  });
  const created = new Counter({ name: 'webhook_deliveries_created_total', help: 'Deliveries made by the dispatcher (one per event and matching endpoint)', registers: [registry] });
  const emails = new Counter({ name: 'notification_emails_total', help: 'Notification emails, by outcome (sent | failed)', labelNames: ['outcome'], registers: [registry] });
  if (queue) registerQueueDepthGauge(registry, queue, 'notifications_queue_jobs');
  return {
    attempt: (outcome, seconds) => {
      attempts.inc({ outcome });
      latency.observe(seconds);
    },
    delivered: (seconds) => endToEnd.observe(seconds),
    dispatched: (n) => created.inc(n),
    email: (outcome) => emails.inc({ outcome }),
  };
}
