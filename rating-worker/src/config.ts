import { z } from 'zod';
import { postgresConfigSchema } from '@polaris/postgres';
import { baseConfigSchema, loadConfig } from '@polaris/shared/config';
import { SERVICE_PORTS } from '@polaris/shared/contracts';

/** Exported so the deploy tests can check every deployment sets each variable it must (k8s/deploy-contract.ts). */
export const ratingWorkerConfigSchema = baseConfigSchema
  .extend({
    OPS_PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS['rating-worker'].ops),
    GRPC_HOST: z.string().default('127.0.0.1'),
    GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS['rating-worker'].grpc),
    // Parsed now so every deployment already carries it: the BullMQ rating jobs use it next.
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').default('redis://127.0.0.1:56379'),
  })
  .extend(postgresConfigSchema.shape);

export type RatingWorkerConfig = z.infer<typeof ratingWorkerConfigSchema>;

export const loadRatingWorkerConfig = (env?: Record<string, string | undefined>): RatingWorkerConfig =>
  loadConfig(ratingWorkerConfigSchema, env);
