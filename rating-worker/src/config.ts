import { z } from 'zod';
import { postgresConfigSchema } from '@polaris/postgres';
import { baseConfigSchema, loadConfig } from '@polaris/shared/config';
import { SERVICE_PORTS } from '@polaris/shared/contracts';
import { internalAuthConfigSchema } from '@polaris/shared/grpc';

/** Exported so the deploy tests can check every deployment sets each variable it must (k8s/deploy-contract.ts). */
export const ratingWorkerConfigSchema = baseConfigSchema
  .extend(internalAuthConfigSchema.shape)
  .extend({
    OPS_PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS['rating-worker'].ops),
    GRPC_HOST: z.string().default('127.0.0.1'),
    GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS['rating-worker'].grpc),
    // Parsed now so every deployment already carries it: the BullMQ rating jobs use it next.
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
  .extend(postgresConfigSchema.shape);

export type RatingWorkerConfig = z.infer<typeof ratingWorkerConfigSchema>;

export const loadRatingWorkerConfig = (env?: Record<string, string | undefined>): RatingWorkerConfig =>
  loadConfig(ratingWorkerConfigSchema, env);
