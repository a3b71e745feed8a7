import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '@polaris/shared/service';
import { evaluateThresholds, type EvaluatorDeps } from './threshold-evaluator';
import type { ThresholdMetrics } from './threshold-metrics';

// The usage-thresholds queue: a job scheduler repeats one `evaluate-thresholds` job every
// THRESHOLD_EVALUATION_INTERVAL_MS. Its own queue rather than `rating`: at a period boundary the
// rating scan queues thousands of rate-period jobs, and a crossing must not wait behind them to be
// noticed within a minute. Same key prefix as the rating queue (one per database).

export const THRESHOLDS_QUEUE = 'usage-thresholds';
export const EVALUATE_JOB = 'evaluate-thresholds';

/** Until the scheduler is in Redis (Redis may be down at start): how often to try again. */
const SCHEDULE_RETRY_MS = 5_000;
/** A failed evaluation is the next one's work: kept a day to be seen, not forever. */
const JOB_OPTIONS = { removeOnComplete: { age: 3600, count: 100 }, removeOnFail: { age: 24 * 3600 } } as const;

export interface ThresholdJobsSettings {
  redisUrl: string;
  /** THRESHOLD_EVALUATION_INTERVAL_MS */
  intervalMs: number;
  /** The rating queue's prefix: systems sharing a Redis but not a database never take each other's jobs. */
  prefix?: string;
}

export class ThresholdJobs {
  readonly queue: Queue;
  private readonly queueConnection: Redis;
  private readonly workerConnection: Redis;
  private worker?: Worker;
  private scheduleTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: { evaluator: EvaluatorDeps; logger: Logger; metrics: ThresholdMetrics; settings: ThresholdJobsSettings }) {
    // As the rating queue: commands fail fast while Redis is away, the worker's blocking connection waits.
    this.queueConnection = new Redis(deps.settings.redisUrl, { maxRetriesPerRequest: 1 });
    this.workerConnection = new Redis(deps.settings.redisUrl, { maxRetriesPerRequest: null });
    for (const connection of [this.queueConnection, this.workerConnection]) {
      connection.on('error', (err) => deps.logger.debug({ err }, 'redis connection error'));
    }
    this.queue = new Queue(THRESHOLDS_QUEUE, { connection: this.queueConnection, ...(deps.settings.prefix ? { prefix: deps.settings.prefix } : {}) });
    this.queue.on('error', (err) => deps.logger.warn({ err }, 'usage-thresholds queue error'));
  }

  /** Starts the worker (one evaluation at a time per replica) and upserts the schedule. */
  start(): void {
    const { settings, logger } = this.deps;
    this.worker = new Worker(THRESHOLDS_QUEUE, (job) => this.process(job), {
      connection: this.workerConnection,
      concurrency: 1,
      ...(settings.prefix ? { prefix: settings.prefix } : {}),
    });
    this.worker.on('error', (err) => logger.warn({ err }, 'usage-thresholds worker error'));
    this.worker.on('failed', (job, err) => logger.warn({ err, jobId: job?.id }, 'usage threshold evaluation failed; the next one retries'));
    void this.schedule();
  }

  /** Every replica upserts the same scheduler id: N replicas make one schedule, and a changed interval replaces it. */
  private async schedule(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.queue.upsertJobScheduler(EVALUATE_JOB, { every: this.deps.settings.intervalMs }, { name: EVALUATE_JOB, data: {}, opts: JOB_OPTIONS });
      this.deps.logger.info({ everyMs: this.deps.settings.intervalMs }, 'usage threshold evaluation scheduled');
    } catch (err) {
      this.deps.logger.warn({ err }, `cannot schedule the usage threshold evaluation yet; trying again in ${SCHEDULE_RETRY_MS} ms`);
      this.scheduleTimer = setTimeout(() => void this.schedule(), SCHEDULE_RETRY_MS);
    }
  }

  async ping(): Promise<void> {
    await this.queueConnection.ping();
  }

  /** Waits for the evaluation in flight, then lets go of Redis. Call before the pool closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.scheduleTimer);
    await this.worker?.close();
    await this.queue.close();
    this.workerConnection.disconnect();
    await this.queueConnection.quit().catch(() => this.queueConnection.disconnect());
  }

  private async process(job: Job): Promise<unknown> {
    // A scheduled job is added ahead of its time with a delay: its due time is timestamp + delay.
    const dueAt = job.timestamp + (job.opts.delay ?? 0);
    const lag = () => Math.max(0, Date.now() - dueAt) / 1000;
    try {
      const summary = await evaluateThresholds(this.deps.evaluator);
      this.deps.metrics.runFinished('completed', lag());
      return summary;
    } catch (err) {
      this.deps.metrics.runFinished('failed', lag());
      throw err;
    }
  }
}
