import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Pool } from '@polaris/postgres';
import { inBatchSpan, type Logger } from '@polaris/shared/service';
import type { InvoiceRater } from './invoice-rater';
import type { RatingMetrics } from './rating-metrics';
import { createRatingQueue, finalizePayload, RATING_JOBS, RATING_QUEUE, ratePeriodPayload, SCAN_JOB_OPTIONS } from './rating-queue';
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

/** Until the scheduler is in Redis (Redis may be down at start): how often to try again. */
const SCHEDULE_RETRY_MS = 5_000;

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

export class RatingJobs {
  readonly queue: Queue;
  private readonly queueConnection: Redis;
  private readonly workerConnection: Redis;
  private worker?: Worker;
  private scheduleTimer?: NodeJS.Timeout;
  private stopped = false;

  private running?: { rater: InvoiceRater; metrics: RatingMetrics };

  /** Opens the Redis connections and the queue; nothing runs until start(). */
  constructor(private readonly deps: { pool: Pool; logger: Logger; settings: RatingJobsSettings }) {
    // Queue commands (adds, counts, pings) fail fast while Redis is away; the worker's blocking
    // connection waits for it (BullMQ requires maxRetriesPerRequest: null there).
    this.queueConnection = new Redis(deps.settings.redisUrl, { maxRetriesPerRequest: 1 });
    this.workerConnection = new Redis(deps.settings.redisUrl, { maxRetriesPerRequest: null });
    for (const connection of [this.queueConnection, this.workerConnection]) {
      // ioredis reconnects by itself; an unhandled 'error' event would crash the process instead.
      connection.on('error', (err) => deps.logger.debug({ err }, 'redis connection error'));
    }
    this.queue = createRatingQueue(this.queueConnection, deps.settings.prefix);
    this.queue.on('error', (err) => deps.logger.warn({ err }, 'rating queue error'));
  }

  /** Starts the worker and puts the scan schedule in Redis (retried in the background until Redis answers). */
  start(rater: InvoiceRater, metrics: RatingMetrics): void {
    const { settings, logger } = this.deps;
    this.running = { rater, metrics };
    this.worker = new Worker(RATING_QUEUE, (job) => this.process(job), {
      connection: this.workerConnection,
      concurrency: settings.concurrency,
      ...(settings.prefix ? { prefix: settings.prefix } : {}),
    });
    this.worker.on('error', (err) => logger.warn({ err }, 'rating worker error'));
    this.worker.on('failed', (job, err) => {
      const exhausted = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
      logger[exhausted ? 'error' : 'warn']({ err, jobId: job?.id, job: job?.name, attempt: job?.attemptsMade }, exhausted ? 'rating job failed for good' : 'rating job failed; it will be retried');
    });
    void this.schedule();
  }

  /**
   * upsertJobScheduler: every replica upserts the same scheduler id, so N replicas make one
   * schedule, and a changed interval replaces the old one.
   */
  private async schedule(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.queue.upsertJobScheduler(RATING_JOBS.scan, { every: this.deps.settings.scanIntervalMs }, { name: RATING_JOBS.scan, data: {}, opts: SCAN_JOB_OPTIONS });
      this.deps.logger.info({ everyMs: this.deps.settings.scanIntervalMs }, 'rating scan scheduled');
    } catch (err) {
      this.deps.logger.warn({ err }, `cannot schedule the rating scan yet; trying again in ${SCHEDULE_RETRY_MS} ms`);
      this.scheduleTimer = setTimeout(() => void this.schedule(), SCHEDULE_RETRY_MS);
    }
  }

  /** Redis answers (the readiness check). */
  async ping(): Promise<void> {
    await this.queueConnection.ping();
  }

  /** Waits for the jobs in flight (worker.close), then lets go of Redis. Call before the pool closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.scheduleTimer);
    await this.worker?.close();
    await this.queue.close();
    this.workerConnection.disconnect();
    await this.queueConnection.quit().catch(() => this.queueConnection.disconnect());
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
        return scanForRating(pool, this.queue, settings);
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
