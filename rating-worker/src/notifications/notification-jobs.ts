import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Pool, QueuedDelivery, WebhookEndpoint } from '@polaris/postgres';
import { inBatchSpan, type Logger } from '@polaris/shared/service';
import { attemptsExhausted, QueueRunner } from '../jobs/queue-runner';
import { deliverWebhook } from './deliver-webhook';
import { deliverJob, dispatchEvents, type DeliverJobOptions } from './dispatch-events';
import { endpointDisabledEmail } from './email-templates';
import type { Mailer } from './mailer';
import type { NotificationMetrics } from './notification-metrics';
import { deliverPayload, emailPayload, KEEP_COMPLETED, KEEP_FAILED, NOTIFICATION_JOBS, NOTIFICATIONS_QUEUE, type EmailPayload } from './notifications-queue';
import { retryDelayMs } from './webhook-backoff';
import { WebhookSender, type SenderSettings } from './webhook-sender';

// The rating-worker's notifications on BullMQ (README "Webhooks"): the `notifications` queue, the
// `webhook-dispatch` job scheduler, and the worker that dispatches, delivers and sends email.

export interface NotificationJobsSettings extends SenderSettings {
  redisUrl: string;
  prefix?: string;
  concurrency: number;
  dispatchIntervalMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  disableAfterMs: number;
  stallMs: number;
}

const DISPATCH_BATCH = 500;
const EMAIL_JOB_OPTIONS = { attempts: 10, backoff: { type: 'exponential', delay: 30_000 }, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED };

export class NotificationJobs {
  private readonly runner: QueueRunner;
  private readonly sender: WebhookSender;
  private running?: { metrics: NotificationMetrics; mailer: Mailer };

  constructor(private readonly deps: { pool: Pool; logger: Logger; settings: NotificationJobsSettings }) {
    const { redisUrl, prefix } = deps.settings;
    this.runner = new QueueRunner({ queueName: NOTIFICATIONS_QUEUE, label: 'notifications', redisUrl, prefix, logger: deps.logger });
    this.sender = new WebhookSender(deps.settings);
  }

  get queue(): Queue {
    return this.runner.queue;
  }

  get deliverJobOptions(): DeliverJobOptions {
    return { attempts: this.deps.settings.maxAttempts, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED };
  }

  /** Queues deliveries made pending by a replay (the Webhooks service). */
  async enqueue(deliveries: readonly QueuedDelivery[]): Promise<void> {
    if (deliveries.length > 0) await this.queue.addBulk(deliveries.map((d) => deliverJob(d, this.deliverJobOptions)));
  }

  start(metrics: NotificationMetrics, mailer: Mailer): void {
    const { settings, logger } = this.deps;
    this.running = { metrics, mailer };
    this.runner.startWorker((job) => this.process(job), {
      concurrency: settings.concurrency,
      settings: {
        // `webhook`: exponential, capped, jittered (webhook-backoff.ts); BullMQ's own for email.
        backoffStrategy: (attemptsMade, type) =>
          type === 'webhook' ? retryDelayMs({ baseMs: settings.backoffBaseMs, maxMs: settings.backoffMaxMs }, attemptsMade) : Math.min(30_000 * 2 ** (attemptsMade - 1), 3_600_000),
      },
      onFailed: (job, err) => {
        const exhausted = attemptsExhausted(job);
        logger[exhausted ? 'warn' : 'debug']({ err: err.message, jobId: job?.id, job: job?.name, attempt: job?.attemptsMade }, exhausted ? 'notification job failed for good' : 'notification job failed; it will be retried');
      },
    });
    this.runner.schedule({
      name: NOTIFICATION_JOBS.dispatch,
      everyMs: settings.dispatchIntervalMs,
      opts: { removeOnComplete: { age: 600, count: 100 }, removeOnFail: { age: 24 * 3600 } },
      description: 'webhook dispatch',
    });
  }

  ping(): Promise<void> {
    return this.runner.ping();
  }

  /** Waits for the jobs in flight, lets go of Redis, then closes the webhook sender's connections. */
  async stop(): Promise<void> {
    await this.runner.stop();
    await this.sender.close();
  }

  private async process(job: Job): Promise<unknown> {
    const running = this.running;
    if (!running) throw new Error('notification jobs are not started');
    return inBatchSpan(job.name, [], () => this.run(job, running));
  }

  private async run(job: Job, running: { metrics: NotificationMetrics; mailer: Mailer }): Promise<unknown> {
    const { pool, logger, settings } = this.deps;
    switch (job.name) {
      case NOTIFICATION_JOBS.dispatch:
        return dispatchEvents(
          { pool, queue: this.queue, logger, metrics: running.metrics, jobOptions: this.deliverJobOptions, emailJobOptions: EMAIL_JOB_OPTIONS },
          { batchSize: DISPATCH_BATCH, stallMs: settings.stallMs },
        );
      case NOTIFICATION_JOBS.deliver: {
        const payload = deliverPayload.safeParse(job.data);
        if (!payload.success) throw new UnrecoverableError(`delivery job ${job.id} carries no valid payload: ${payload.error.message}`);
        return deliverWebhook(
          { pool, sender: this.sender, metrics: running.metrics, logger, disableAfterMs: settings.disableAfterMs, endpointDisabled: (e) => this.tellDisabled(e) },
          job,
          payload.data,
        );
      }
      case NOTIFICATION_JOBS.email: {
        const payload = emailPayload.safeParse(job.data);
        if (!payload.success) throw new UnrecoverableError(`email job ${job.id} carries no valid payload: ${payload.error.message}`);
        try {
          await running.mailer.send(payload.data.to, { subject: payload.data.subject, text: payload.data.text, html: payload.data.html ?? '' });
          running.metrics.email('sent');
        } catch (err) {
          running.metrics.email('failed');
          throw err;
        }
        return { sent: true };
      }
      default:
        throw new UnrecoverableError(`no notification job is called ${JSON.stringify(job.name)}`);
    }
  }

  /** Queues the "endpoint disabled" email to the endpoint's alert address, once per disabling. */
  private async tellDisabled(endpoint: WebhookEndpoint): Promise<void> {
    if (!endpoint.alertEmail) return;
    const email: EmailPayload = { to: endpoint.alertEmail, ...endpointDisabledEmail(endpoint) };
    await this.queue.add(NOTIFICATION_JOBS.email, email, { ...EMAIL_JOB_OPTIONS, jobId: `email.endpoint-disabled.${endpoint.id}.${endpoint.disabledAt?.getTime() ?? Date.now()}` });
  }
}
