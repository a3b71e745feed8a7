import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queue } from 'bullmq';
import type { Pool } from '@polaris/postgres';
import type { InternalAuth } from '@polaris/shared/grpc';
import type { Logger, ReadinessCheck, Stoppable } from '@polaris/shared/service';
import type { Registry } from 'prom-client';
import type { RatingWorkerConfig } from '../config';
import { InvoiceRater } from './invoice-rater';
import { RatingJobs } from './rating-jobs';
import { queuePrefixFor } from './rating-queue';
import { createRatingMetrics } from './rating-metrics';
import { connectUsage } from './usage-client';
import { UsageReader } from './usage-reader';

const DAY_MS = 86_400_000;

export interface RatingParts {
  /** What the Invoices gRPC service rates with. */
  rater: InvoiceRater;
  /** The rating queue (for the queue board); undefined with RATING_ENABLED=false. */
  queue?: Queue;
  checks: ReadinessCheck[];
  /** In shutdown order: the worker finishes its jobs before the pool closes (main.ts puts these before it). */
  parts: Stoppable[];
}

/**
 * The rating side of the rating-worker, built from its config: the Usage client, the rater the
 * jobs and the Invoices service share, and (unless RATING_ENABLED=false) the queue, its worker
 * and the scan schedule, started.
 */
export function startRating(deps: { config: RatingWorkerConfig; pool: Pool; auth: InternalAuth; logger: Logger; registry: Registry }): RatingParts {
  const { config, pool, logger, registry } = deps;
  const usageClient = connectUsage(config.USAGE_GRPC_ADDR, deps.auth, config.USAGE_GRPC_DEADLINE_MS);
  // Names this process in invoice claims: unique per start, readable in the database.
  const instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const settings = {
    claimTtlMs: config.RATING_CLAIM_TTL_MS,
    settleMs: config.RATING_SETTLE_MS,
    graceMs: config.INVOICE_GRACE_MS,
    lateLookbackMs: config.LATE_USAGE_LOOKBACK_DAYS * DAY_MS,
  };
  const usageParts: Stoppable = { name: 'usage-client', stop: async () => usageClient.close() };
  if (!config.RATING_ENABLED) {
    const metrics = createRatingMetrics(registry);
    const rater = new InvoiceRater({ pool, usage: new UsageReader(usageClient.queryMeter), instanceId, settings, logger, observer: metrics });
    return { rater, checks: [], parts: [usageParts] };
  }
  const jobs = new RatingJobs({
    pool,
    logger,
    settings: {
      redisUrl: config.REDIS_URL,
      concurrency: config.RATING_CONCURRENCY,
      attempts: config.RATING_JOB_ATTEMPTS,
      backoffMs: config.RATING_BACKOFF_MS,
      scanIntervalMs: config.RATING_SCAN_INTERVAL_MS,
      settleMs: config.RATING_SETTLE_MS,
      prefix: config.RATING_QUEUE_PREFIX ?? queuePrefixFor(config.DATABASE_URL),
    },
  });
  const metrics = createRatingMetrics(registry, jobs.queue);
  const rater = new InvoiceRater({ pool, usage: new UsageReader(usageClient.queryMeter), instanceId, settings, logger, observer: metrics });
  jobs.start(rater, metrics);
  return {
    rater,
    queue: jobs.queue,
    // Not critical: the same pods serve Identity (API keys for the collector and the gateway),
    // Meters and MeterCatalog (the sinks' catalog lease: without it they stop inserting). Taking
    // them out of the Service because Redis is down would stop ingestion for a queue outage.
    // Rating only waits: the worker reconnects and its jobs run when Redis is back, and the scan
    // finds whatever became due meanwhile. /readyz still shows the outage.
    checks: [{ name: 'redis', check: () => jobs.ping(), critical: false }],
    parts: [{ name: 'rating-jobs', stop: () => jobs.stop() }, usageParts],
  };
}
