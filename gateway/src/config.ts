import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@polaris/shared/config';
import { SERVICE_PORTS } from '@polaris/shared/contracts';

const port = z.coerce.number().int().min(0).max(65535);

/** Exported so the deploy tests can check every deployment sets each variable it must (k8s/deploy-contract.ts). */
export const gatewayConfigSchema = baseConfigSchema.extend({
  OPS_PORT: port.default(SERVICE_PORTS.gateway.ops),
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: port.default(SERVICE_PORTS.gateway.http),
  IDENTITY_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['rating-worker'].grpc}`),
  USAGE_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['sink-worker'].grpc}`),
  INGEST_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS.collector.grpc}`),
  /** Deadline for each call to a backend service. */
  BACKEND_DEADLINE_MS: z.coerce.number().int().positive().default(10_000),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  /** Longest a client may take to send a whole request (headers and body); then 408 and closed. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** Longest a client may take to send the request headers. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  GRAPHIQL_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const loadGatewayConfig = (env?: Record<string, string | undefined>): GatewayConfig => loadConfig(gatewayConfigSchema, env);
