import { z } from 'zod';
import { postgresConfigSchema } from '@polaris/postgres';
import { baseConfigSchema, loadConfig } from '@polaris/shared/config';
import { SERVICE_PORTS } from '@polaris/shared/contracts';
import { internalAuthConfigSchema } from '@polaris/shared/grpc';
import { withKafkaConfig } from '@polaris/shared/kafka';
import { notificationsConfigSchema } from './notifications/notifications-config';
import { deadLetterWatchConfigSchema } from './notifications/dead-letters/dead-letter-watch-config';

/** Exported so the deploy tests can check every deployment sets each variable it must (k8s/deploy-contract.ts). */
// withKafkaConfig: the dead-letter watcher reads the broker (KAFKA_*, with their cross-checks).
export const ratingWorkerConfigSchema = withKafkaConfig(baseConfigSchema
  .extend(internalAuthConfigSchema.shape)
  .extend({
    OPS_PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS['rating-worker'].ops),
    GRPC_HOST: z.string().default('127.0.0.1'),
    GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS['rating-worker'].grpc),
    // The BullMQ rating queue (unused with RATING_ENABLED=false).
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').default('redis://127.0.0.1:56379'),
    // The meter catalog (docs/meters.md, "Catalog revisions, leases and backfill").
    // How long a sink's catalog lease lasts; sinks re-sync well within it.
    METER_LEASE_TTL_MS: z.coerce.number().int().min(1_000).default(30_000),
    // How long an expired lease still holds backfills back: an insert started under it may be in flight.
    // At most an hour: leases expired for a day are deleted, so a grace must end long before that.
    METER_LEASE_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
    // How long a backfill claim lasts without a progress report before another worker takes over.
    BACKFILL_CLAIM_TTL_MS: z.coerce.number().int().min(1_000).default(60_000),
    // Runs of one range whose workers stopped reporting, before the backfill fails instead.
    BACKFILL_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(5),
  })
  .extend({
    // The admin port: bull-board over the rating queues, for API keys with the `admin` scope
    // (rating-worker/src/admin/). Loopback by default; 0 serves no board at all.
    ADMIN_HOST: z.string().default('127.0.0.1'),
    ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS['rating-worker'].admin),
  })
  .extend({
    // Rating (docs/billing.md, "Rating"). Usage comes from the sink-worker's Usage.QueryMeter.
    USAGE_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['sink-worker'].grpc}`),
    USAGE_GRPC_DEADLINE_MS: z.coerce.number().int().positive().default(30_000),
    // false: this replica serves gRPC only (no rating queue, worker or scan; no Redis needed).
    RATING_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    // How often the rating-scan job scheduler looks for due periods and drafts to finalize.
    RATING_SCAN_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
    // How long after a period's end it is rated: events still in the broker land first.
    RATING_SETTLE_MS: z.coerce.number().int().min(0).default(300_000),
    // How long after a period's end its draft is finalized.
    INVOICE_GRACE_MS: z.coerce.number().int().min(0).default(3_600_000),
    // Late usage is looked for in periods that ended this many days before (the collector's backdating limit).
    LATE_USAGE_LOOKBACK_DAYS: z.coerce.number().int().min(0).max(366).default(35),
    // 32, not fewer: reads in flight batch together (scripts/bench/rating.bench.ts measured 0.6 Usage
    // queries per invoice at 8, 0.2 at 32); jobs beyond DATABASE_POOL_MAX wait for a connection.
    RATING_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(32),
    RATING_JOB_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    // The first retry's delay; each next one doubles it (8 attempts: about 42 minutes in all).
    RATING_BACKOFF_MS: z.coerce.number().int().min(100).default(10_000),
    // How long a worker's claim on a draft lasts if it dies mid-computation (a finished one releases it).
    RATING_CLAIM_TTL_MS: z.coerce.number().int().min(1_000).default(300_000),
    // The Redis key prefix of the rating queue. Rating-workers that share a Redis but not a
    // database must each have their own (a job names rows of one database only), so when unset it
    // is derived from the database name: `bull-<database>` (rating-queue.ts, queuePrefixFor).
    RATING_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only').optional(),
  })
  .extend({
    // Usage thresholds (README "Usage thresholds"): how often every active threshold is evaluated.
    THRESHOLD_EVALUATION_INTERVAL_MS: z.coerce.number().int().min(1_000).default(20_000),
  })
  // Webhooks and notification email (rating-worker/src/notifications/notifications-config.ts).
  .extend(notificationsConfigSchema.shape)
  // The dead-letter watcher (dead_letters.growing; rating-worker/src/notifications/dead-letters/).
  .extend(deadLetterWatchConfigSchema.shape)
  .extend(postgresConfigSchema.shape));

export type RatingWorkerConfig = z.infer<typeof ratingWorkerConfigSchema>;

export const loadRatingWorkerConfig = (env?: Record<string, string | undefined>): RatingWorkerConfig =>
  loadConfig(ratingWorkerConfigSchema, env);
