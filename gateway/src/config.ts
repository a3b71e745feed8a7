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
  /**
   * Schema introspection (`__schema`, `__type`) and the GraphiQL IDE on GET /graphql: on by default
   * for local work, off in the production overlay (k8s/overlays/production/gateway-graphql.patch.yaml,
   * checked by k8s/gateway-graphql.integration.test.ts). `__typename` is always answered.
   */
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  GRAPHQL_GRAPHIQL: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
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
  // Dashboard tokens (JWTs, gateway/src/auth/; README, "Authentication"). With neither a secret nor
  // a JWKS URL the gateway takes API keys only. The secret both signs (createDashboardToken) and
  // verifies HS256 tokens; the JWKS URL only verifies (RS256, ES256, EdDSA: an identity provider's).
  /** HMAC-SHA256 key of the tokens createDashboardToken issues; at least 32 bytes. */
  JWT_HS256_SECRET: z.string().min(32, 'must be at least 32 bytes').optional(),
  /** An identity provider's JSON Web Key Set, fetched and cached (jose createRemoteJWKSet). */
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Every accepted token's `iss` must be this, and issued tokens carry it. */
  JWT_ISSUER: z.string().min(1).default('polaris'),
  /** Every accepted token's `aud` must include this, and issued tokens carry it. */
  JWT_AUDIENCE: z.string().min(1).default('polaris-graphql'),
  /** Lifetime of an issued dashboard token. Short: a token cannot be revoked, only outlived. */
  JWT_TTL_SECONDS: z.coerce.number().int().positive().max(86_400).default(900),
  /** Clock skew allowed on `exp`, `nbf` and `iat` between the issuer and this gateway. */
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  // Per-organization request limits (gateway/src/auth/organization-rate-limiter.ts), counted in
  // Redis so every gateway replica shares one count. README, "Rate limits".
  /** Where the per-organization request counts live (the collector's Redis will do: other keys). */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').default('redis://127.0.0.1:56379'),
  /** GraphQL requests per second an organization may make on average (over 10 s); 0 = no limit. */
  GATEWAY_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(50),
  /** The most requests of one organization in any one second (at least the rate). */
  GATEWAY_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(100),
  /** While Redis is unreachable, requests pass uncounted for this long, then get 503 until it is back. */
  RATE_LIMIT_REDIS_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
}).superRefine((config, ctx) => {
  if (config.GATEWAY_RATE_LIMIT_PER_SECOND > 0 && config.GATEWAY_RATE_LIMIT_BURST < config.GATEWAY_RATE_LIMIT_PER_SECOND) {
    ctx.addIssue({
      code: 'custom',
      path: ['GATEWAY_RATE_LIMIT_BURST'],
      message: `must be at least GATEWAY_RATE_LIMIT_PER_SECOND (${config.GATEWAY_RATE_LIMIT_PER_SECOND}): it is the most requests in one second`,
    });
  }
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** The billing services' address: BILLING_GRPC_ADDR, else the Meters server's. */
export const billingAddress = (config: GatewayConfig): string => config.BILLING_GRPC_ADDR ?? config.METERS_GRPC_ADDR;

export const loadGatewayConfig = (env?: Record<string, string | undefined>): GatewayConfig => loadConfig(gatewayConfigSchema, env);
