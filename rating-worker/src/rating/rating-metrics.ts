import type { Queue } from 'bullmq';
import { Counter, Histogram, type Registry } from 'prom-client';
import { registerQueueDepthGauge } from '../jobs/queue-depth-gauge';
import type { RatingObserver } from './invoice-rater';

// The rating jobs on the service's Prometheus registry: what ran and how it ended, how long it
// took, invoices computed, rating errors by code, and what waits in the queue.

export interface RatingMetrics extends RatingObserver {
  jobFinished(name: string, outcome: 'completed' | 'failed', seconds: number): void;
}

export function createRatingMetrics(registry: Registry, queue?: Queue): RatingMetrics {
  const jobs = new Counter({
    name: 'rating_jobs_total',
    help: 'Rating jobs run, by job name and outcome (completed | failed: an attempt that threw)',
    labelNames: ['name', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'rating_job_duration_seconds',
    help: 'Time to run one attempt of a rating job, by job name',
    labelNames: ['name'],
    registers: [registry],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  const computed = new Counter({
    name: 'rating_invoices_computed_total',
    help: 'Invoice computations written (drafts computed or recomputed, and finalizations)',
    registers: [registry],
  });
  const errors = new Counter({
    name: 'rating_errors_total',
    help: 'Rating attempts that failed, by error code (usage_incomplete, usage_unavailable, …)',
    labelNames: ['code'],
    registers: [registry],
  });
  if (queue) registerQueueDepthGauge(registry, queue, 'rating_queue_jobs');
  return {
    jobFinished: (name, outcome, seconds) => {
      jobs.inc({ name, outcome });
      duration.observe({ name }, seconds);
    },
    computed: () => computed.inc(),
    failed: (code) => errors.inc({ code }),
  };
}
