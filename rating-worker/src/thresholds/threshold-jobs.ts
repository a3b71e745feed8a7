import type { Job, Queue } from 'bullmq';
import type { Logger } from '@polaris/shared/service';
import { QueueRunner } from '../jobs/queue-runner';
import { evaluateThresholds, type EvaluatorDeps } from './threshold-evaluator';
import type { ThresholdMetrics } from './threshold-metrics';

// The usage-thresholds queue: a job scheduler repeats one `evaluate-thresholds` job every
// THRESHOLD_EVALUATION_INTERVAL_MS. Its own queue rather than `rating`: at a period boundary the
// rating scan queues thousands of rate-period jobs, and a crossing must not wait behind them to be
// noticed within a minute. Same key prefix as the rating queue (one per database).

export const THRESHOLDS_QUEUE = 'usage-thresholds';
export const EVALUATE_JOB = 'evaluate-thresholds';

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
  private readonly runner: QueueRunner;

  constructor(private readonly deps: { evaluator: EvaluatorDeps; logger: Logger; metrics: ThresholdMetrics; settings: ThresholdJobsSettings }) {
    const { redisUrl, prefix } = deps.settings;
    this.runner = new QueueRunner({ queueName: THRESHOLDS_QUEUE, label: 'usage-thresholds', redisUrl, prefix, logger: deps.logger });
  }

  get queue(): Queue {
    return this.runner.queue;
  }

  /** Starts the worker (one evaluation at a time per replica) and upserts the schedule. */
  start(): void {
    const { settings, logger } = this.deps;
    this.runner.startWorker((job) => this.process(job), {
      concurrency: 1,
      onFailed: (job, err) => logger.warn({ err, jobId: job?.id }, 'usage threshold evaluation failed; the next one retries'),
    });
    this.runner.schedule({ name: EVALUATE_JOB, everyMs: settings.intervalMs, opts: JOB_OPTIONS, description: 'usage threshold evaluation' });
  }

  ping(): Promise<void> {
    return this.runner.ping();
  }

  /** Waits for the evaluation in flight, then lets go of Redis. Call before the pool closes. */
  stop(): Promise<void> {
    return this.runner.stop();
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
