import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Pool } from '@polaris/postgres';
import { inBatchSpan, type Logger } from '@polaris/shared/service';
import { attemptsExhausted, QueueRunner } from '../jobs/queue-runner';
import type { InvoiceRater } from './invoice-rater';
import type { RatingMetrics } from './rating-metrics';
import { finalizePayload, RATING_JOBS, RATING_QUEUE, ratePeriodPayload, SCAN_JOB_OPTIONS } from './rating-queue';
import { scanForRating } from './rating-scan';

// The rating-worker's BullMQ side (docs/billing.md, "Rating"): the `rating` queue, the
// `rating-scan` job scheduler, and the worker that runs scans, rate-period and finalize jobs.

export interface RatingJobsSettings {
  redisUrl: string;
  /** RATING_CONCURRENCY: jobs one replica runs at once. */
  concurrency: number;
  /** RATING_JOB_ATTEMPTS */
  attempts: number;
  /** The first retry's delay, doubled at each next one. */
  backoffMs: number;
  /** RATING_SCAN_INTERVAL_MS */
  scanIntervalMs: number;
  /** RATING_SETTLE_MS */
  settleMs: number;
  /** Redis key prefix (default BullMQ's `bull`): lets tests share a Redis without seeing each other's jobs. */
  prefix?: string;
}

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

export class RatingJobs {
  private readonly runner: QueueRunner;
  private running?: { rater: InvoiceRater; metrics: RatingMetrics };

  /** Opens the Redis connections and the queue; nothing runs until start(). */
  constructor(private readonly deps: { pool: Pool; logger: Logger; settings: RatingJobsSettings }) {
    const { redisUrl, prefix } = deps.settings;
    this.runner = new QueueRunner({ queueName: RATING_QUEUE, label: 'rating', redisUrl, prefix, logger: deps.logger });
  }

  get queue(): Queue {
    return this.runner.queue;
  }

  /** Starts the worker and puts the scan schedule in Redis (retried in the background until Redis answers). */
  start(rater: InvoiceRater, metrics: RatingMetrics): void {
    const { settings, logger } = this.deps;
    this.running = { rater, metrics };
    this.runner.startWorker((job) => this.process(job), {
      concurrency: settings.concurrency,
      onFailed: (job, err) => {
        const exhausted = attemptsExhausted(job);
        logger[exhausted ? 'error' : 'warn']({ err, jobId: job?.id, job: job?.name, attempt: job?.attemptsMade }, exhausted ? 'rating job failed for good' : 'rating job failed; it will be retried');
      },
    });
    this.runner.schedule({ name: RATING_JOBS.scan, everyMs: settings.scanIntervalMs, opts: SCAN_JOB_OPTIONS, description: 'rating scan' });
  }

  /** Redis answers (the readiness check). */
  ping(): Promise<void> {
    return this.runner.ping();
  }

  /** Waits for the jobs in flight, then lets go of Redis. Call before the pool closes. */
  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async process(job: Job): Promise<unknown> {
    const running = this.running;
    if (!running) throw new Error('rating jobs are not started');
    const started = process.hrtime.bigint();
    try {
      const result = await inBatchSpan(job.name, [], () => this.run(job, running.rater));
      running.metrics.jobFinished(job.name, 'completed', seconds(started));
      return result;
    } catch (err) {
      running.metrics.jobFinished(job.name, 'failed', seconds(started));
      throw err;
    }
  }

  private async run(job: Job, rater: InvoiceRater): Promise<unknown> {
    const { pool, settings } = this.deps;
    switch (job.name) {
      case RATING_JOBS.scan:
        return scanForRating(pool, this.runner.queue, settings);
      case RATING_JOBS.ratePeriod: {
        const payload = ratePeriodPayload.safeParse(job.data);
        if (!payload.success) throw new UnrecoverableError(`rate-period job ${job.id} carries no valid payload: ${payload.error.message}`);
        const { organizationId, subscriptionId, periodStartMs } = payload.data;
        return { outcome: await rater.ratePeriod({ organizationId, subscriptionId, periodStart: new Date(periodStartMs) }) };
      }
      case RATING_JOBS.finalize: {
        const payload = finalizePayload.safeParse(job.data);
        if (!payload.success) throw new UnrecoverableError(`finalize job ${job.id} carries no valid payload: ${payload.error.message}`);
        const finalized = await rater.finalize({ ...payload.data, actor: 'scheduler' }, 'job');
        return { outcome: finalized ? 'finalized' : 'skipped', number: finalized?.number };
      }
      default:
        throw new UnrecoverableError(`no rating job is called ${JSON.stringify(job.name)}`);
    }
  }
}
