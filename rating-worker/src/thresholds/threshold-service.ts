import type { Queue } from 'bullmq';
import type { Pool } from '@polaris/postgres';
import type { InternalAuth } from '@polaris/shared/grpc';
import type { Logger, ReadinessCheck, Stoppable } from '@polaris/shared/service';
import type { Registry } from 'prom-client';
import type { RatingWorkerConfig } from '../config';
import { queuePrefixFor } from '../rating/rating-queue';
import { connectUsage } from '../rating/usage-client';
import { UsageReader } from '../rating/usage-reader';
import { ThresholdJobs } from './threshold-jobs';
import { createThresholdMetrics } from './threshold-metrics';

export interface ThresholdParts {
  /** The usage-thresholds queue (for the queue board); undefined with RATING_ENABLED=false. */
  queue?: Queue;
  checks: ReadinessCheck[];
  /** In shutdown order, before the pool closes. */
  parts: Stoppable[];
}

/**
 * The usage-threshold evaluation of the rating-worker (README "Usage thresholds"): its Usage
 * client and reader, the usage-thresholds queue, its worker and its job scheduler, started.
 * Runs where rating runs (RATING_ENABLED): it needs the same Redis and the same Usage API.
 */
export function startThresholds(deps: { config: RatingWorkerConfig; pool: Pool; auth: InternalAuth; logger: Logger; registry: Registry }): ThresholdParts {
  const { config, pool, logger, registry } = deps;
  if (!config.RATING_ENABLED) return { checks: [], parts: [] };
  const usageClient = connectUsage(config.USAGE_GRPC_ADDR, deps.auth, config.USAGE_GRPC_DEADLINE_MS);
  const metrics = createThresholdMetrics(registry);
  const jobs = new ThresholdJobs({
    evaluator: { pool, usage: new UsageReader(usageClient.queryMeter), logger, metrics, settleMs: config.RATING_SETTLE_MS },
    logger,
    metrics,
    settings: {
      redisUrl: config.REDIS_URL,
      intervalMs: config.THRESHOLD_EVALUATION_INTERVAL_MS,
      prefix: config.RATING_QUEUE_PREFIX ?? queuePrefixFor(config.DATABASE_URL),
    },
  });
  jobs.start();
  return {
    queue: jobs.queue,
    // Not critical, as the rating queue's: an outage only delays evaluations.
    checks: [],
    parts: [
      { name: 'threshold-jobs', stop: () => jobs.stop() },
      { name: 'threshold-usage-client', stop: async () => usageClient.close() },
    ],
  };
}
