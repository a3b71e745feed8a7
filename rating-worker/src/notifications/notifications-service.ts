import type { Queue } from 'bullmq';
import type { Pool, QueuedDelivery } from '@polaris/postgres';
import type { Logger, ReadinessCheck, Stoppable } from '@polaris/shared/service';
import type { Registry } from 'prom-client';
import type { RatingWorkerConfig } from '../config';
import { queuePrefixFor } from '../rating/rating-queue';
import { createMailer } from './mailer';
import { createNotificationMetrics } from './notification-metrics';
import { NotificationJobs } from './notification-jobs';

export interface NotificationParts {
  /** The notifications queue (for the queue board); undefined with NOTIFICATIONS_ENABLED=false. */
  queue?: Queue;
  /** Queues replayed deliveries (the Webhooks service). */
  enqueue?: (deliveries: readonly QueuedDelivery[]) => Promise<void>;
  checks: ReadinessCheck[];
  parts: Stoppable[];
}

/**
 * The notifier of the rating-worker (README "Webhooks"), built from its config: the queue, the
 * dispatch schedule, the worker that delivers webhooks and sends email. Its Redis key prefix is
 * the rating queue's, so one prefix names one system's jobs.
 */
export function startNotifications(deps: { config: RatingWorkerConfig; pool: Pool; logger: Logger; registry: Registry }): NotificationParts {
  const { config, pool, logger, registry } = deps;
  if (!config.NOTIFICATIONS_ENABLED) return { checks: [], parts: [] };
  const jobs = new NotificationJobs({
    pool,
    logger,
    settings: {
      redisUrl: config.REDIS_URL,
      prefix: config.RATING_QUEUE_PREFIX ?? queuePrefixFor(config.DATABASE_URL),
      concurrency: config.WEBHOOK_CONCURRENCY,
      dispatchIntervalMs: config.WEBHOOK_DISPATCH_INTERVAL_MS,
      maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
      backoffBaseMs: config.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: config.WEBHOOK_BACKOFF_MAX_MS,
      disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
      stallMs: config.WEBHOOK_STALL_MS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      excerptBytes: config.WEBHOOK_RESPONSE_EXCERPT_BYTES,
      allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    },
  });
  const mailer = createMailer({ smtpUrl: config.SMTP_URL, from: config.SMTP_FROM }, logger);
  jobs.start(createNotificationMetrics(registry, jobs.queue), mailer);
  return {
    queue: jobs.queue,
    enqueue: (deliveries) => jobs.enqueue(deliveries),
    // Not critical, as for rating: webhooks wait in the outbox while Redis is away.
    checks: [{ name: 'redis-notifications', check: () => jobs.ping(), critical: false }],
    parts: [
      {
        name: 'notification-jobs',
        stop: async () => {
          await jobs.stop();
          mailer.close();
        },
      },
    ],
  };
}
