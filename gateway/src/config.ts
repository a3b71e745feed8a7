import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@polaris/shared';

const port = z.coerce.number().int().min(0).max(65535);

/** Exported so the deploy tests can check every deployment sets each variable it must (k8s/deploy-contract.ts). */
export const gatewayConfigSchema = baseConfigSchema.extend({
  OPS_PORT: port.default(9094),
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: port.default(8080),
  IDENTITY_GRPC_ADDR: z.string().default('127.0.0.1:50053'),
  USAGE_GRPC_ADDR: z.string().default('127.0.0.1:50052'),
  INGEST_GRPC_ADDR: z.string().default('127.0.0.1:50051'),
  /** Deadline for each call to a backend service. */
  BACKEND_DEADLINE_MS: z.coerce.number().int().positive().default(10_000),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  GRAPHIQL_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const loadGatewayConfig = (env?: Record<string, string | undefined>): GatewayConfig => loadConfig(gatewayConfigSchema, env);
