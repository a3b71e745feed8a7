import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@polaris/shared/config';
import { SERVICE_PORTS } from '@polaris/shared/contracts';
import { internalAuthConfigSchema } from '@polaris/shared/grpc';

const port = z.coerce.number().int().min(0).max(65535);

/** Exported so the deploy tests can check every deployment sets each variable it must (k8s/deploy-contract.ts). */
export const gatewayConfigSchema = baseConfigSchema.extend(internalAuthConfigSchema.shape).extend({
  OPS_PORT: port.default(SERVICE_PORTS.gateway.ops),
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: port.default(SERVICE_PORTS.gateway.http),
  IDENTITY_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['rating-worker'].grpc}`),
  USAGE_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['sink-worker'].grpc}`),
  INGEST_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS.collector.grpc}`),
  /** polaris.v1.Meters, served by the rating-worker (the owner of PostgreSQL). */
  METERS_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['rating-worker'].grpc}`),
  /**
   * polaris.v1.Customers, Plans, Subscriptions and Invoices, also the rating-worker's. Unset:
   * METERS_GRPC_ADDR, the same server, so every deployment that names the rating-worker for
   * Meters reaches billing there too.
   */
  BILLING_GRPC_ADDR: z.string().min(1).optional(),
  /** Deadline for each call to a backend service. */
  BACKEND_DEADLINE_MS: z.coerce.number().int().positive().default(10_000),
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  /** Longest a client may take to send a whole request (headers and body); then 408 and closed. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** Longest a client may take to send the request headers. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** The GraphiQL IDE on GET /graphql: off unless asked for, and never in the production overlay (k8s tests). */
  GRAPHIQL: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  // Limits on one GraphQL document, checked before any field runs (graphql-armor; see
  // graphql/limits.ts). Each aliased root field is a backend call: 1,000 aliases were 1,000
  // ClickHouse queries in one request. A request over a limit gets 400 BAD_USER_INPUT naming it.
  /** Aliased fields per operation (`__typename` is free). */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().positive().default(15),
  /** Nesting depth of selections; the deepest real query (`usage { rows { value } }`) is 3. */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().positive().default(6),
  /** Lexical tokens per document, counted while parsing: a huge document stops there, cheaply. */
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().positive().default(1_000),
  /** Static cost per operation (graphql-armor: 2 per object, 1 per scalar, ×1.5 per level of depth). */
  GRAPHQL_MAX_COST: z.coerce.number().int().positive().default(5_000),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** The billing services' address: BILLING_GRPC_ADDR, else the Meters server's. */
export const billingAddress = (config: GatewayConfig): string => config.BILLING_GRPC_ADDR ?? config.METERS_GRPC_ADDR;

export const loadGatewayConfig = (env?: Record<string, string | undefined>): GatewayConfig => loadConfig(gatewayConfigSchema, env);
