import { Queue, Worker, type Job, type JobSchedulerTemplateOptions, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '@polaris/shared/service';

// The BullMQ plumbing every queue of the rating-worker shares (rating, notifications,
// usage-thresholds): one queue, its worker and its one job scheduler, on Redis connections of
// their own. The owners (rating-jobs.ts, notification-jobs.ts, threshold-jobs.ts) keep what
// differs: their processors, their failure logging and their metrics.

export interface QueueRunnerOptions {
  queueName: string;
  /** Names the queue in log lines: `<label> queue error`, `<label> worker error`. */
  label: string;
  redisUrl: string;
  /** Redis key prefix (default BullMQ's `bull`): lets systems and tests share a Redis without seeing each other's jobs. */
  prefix?: string;
  logger: Logger;
}

export interface WorkerStart {
  /** Jobs one replica runs at once. */
  concurrency: number;
  /** BullMQ's advanced worker settings (a custom backoff strategy). */
  settings?: WorkerOptions['settings'];
  /** Logs a failed attempt; each queue words (and levels) its own. */
  onFailed: (job: Job | undefined, err: Error) => void;
}

export interface RepeatedJob {
  /** The scheduler id, also the name of the job it repeats. */
  name: string;
  everyMs: number;
  opts: JobSchedulerTemplateOptions;
  /** What the job does, for the log lines: `<description> scheduled`. */
  description: string;
}

/** Until the scheduler is in Redis (Redis may be down at start): how often to try again. */
const SCHEDULE_RETRY_MS = 5_000;

/** The job used its last attempt: BullMQ will not run it again. */
export const attemptsExhausted = (job: Job | undefined): boolean => job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);

export class QueueRunner {
  readonly queue: Queue;
  private readonly queueConnection: Redis;
  private readonly workerConnection: Redis;
  private worker?: Worker;
  private scheduleTimer?: NodeJS.Timeout;
  private stopped = false;

  /** Opens the Redis connections and the queue; nothing runs until startWorker(). */
  constructor(private readonly options: QueueRunnerOptions) {
    const { redisUrl, logger, queueName, label } = options;
    // Queue commands (adds, counts, pings) fail fast while Redis is away; the worker's blocking
    // connection waits for it (BullMQ requires maxRetriesPerRequest: null there).
    this.queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    for (const connection of [this.queueConnection, this.workerConnection]) {
      // ioredis reconnects by itself; an unhandled 'error' event would crash the process instead.
      connection.on('error', (err) => logger.debug({ err }, 'redis connection error'));
    }
    this.queue = new Queue(queueName, { connection: this.queueConnection, ...this.prefixOption() });
    this.queue.on('error', (err) => logger.warn({ err }, `${label} queue error`));
  }

  startWorker(processor: (job: Job) => Promise<unknown>, start: WorkerStart): void {
    const { queueName, label, logger } = this.options;
    this.worker = new Worker(queueName, processor, {
      connection: this.workerConnection,
      concurrency: start.concurrency,
      ...this.prefixOption(),
      ...(start.settings ? { settings: start.settings } : {}),
    });
    this.worker.on('error', (err) => logger.warn({ err }, `${label} worker error`));
    this.worker.on('failed', start.onFailed);
  }

  /**
   * Puts the job's schedule in Redis, retried in the background until Redis answers.
   * upsertJobScheduler: every replica upserts the same scheduler id, so N replicas make one
   * schedule, and a changed interval replaces the old one.
   */
  schedule(job: RepeatedJob): void {
    void this.upsertSchedule(job);
  }

  private async upsertSchedule(job: RepeatedJob): Promise<void> {
    if (this.stopped) return;
    const { logger } = this.options;
    try {
      await this.queue.upsertJobScheduler(job.name, { every: job.everyMs }, { name: job.name, data: {}, opts: job.opts });
      logger.info({ everyMs: job.everyMs }, `${job.description} scheduled`);
    } catch (err) {
      logger.warn({ err }, `cannot schedule the ${job.description} yet; trying again in ${SCHEDULE_RETRY_MS} ms`);
      this.scheduleTimer = setTimeout(() => void this.upsertSchedule(job), SCHEDULE_RETRY_MS);
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

  private prefixOption(): { prefix?: string } {
    return this.options.prefix ? { prefix: this.options.prefix } : {};
  }
}
