import { ApiKeysClient, ApiKeysService, type IdentityClient } from '@polaris/proto';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import { insecureChannel, type InternalAuth } from '@polaris/shared/grpc';
import { createRateLimitRedis } from '@polaris/shared/rate-limit';
import type { Logger, ReadinessCheck } from '@polaris/shared/service';
import type { Registry } from 'prom-client';
import { backendClientOptions } from '../backend-retries';
import type { GatewayConfig } from '../config';
import { DashboardTokenIssuer } from './dashboard-tokens';
import { GatewayAuthenticator } from './gateway-authenticator';
import { OrganizationCheck } from './organization-check';
import { OrganizationRateLimiter } from './organization-rate-limiter';
import { TokenVerifier } from './token-verifier';

/** Everything the GraphQL layer needs to know who asks, and how often they may. */
export interface GatewayAuth {
  authenticator: GatewayAuthenticator;
  /** Counts a request of the organization (OrganizationRateLimiter); undefined: no limit (GATEWAY_RATE_LIMIT_PER_SECOND=0). */
  rateLimiter?: Pick<OrganizationRateLimiter, 'consume'>;
  /** Undefined: createDashboardToken answers FORBIDDEN (no JWT_HS256_SECRET). */
  dashboardTokens?: DashboardTokenIssuer;
  /** polaris.v1.ApiKeys (the rating-worker's, at IDENTITY_GRPC_ADDR). */
  apiKeys?: InstanceType<typeof ApiKeysClient>;
}

/** API keys only, no limits: what tests that build a handler around an ApiKeyAuthenticator get. */
export const apiKeysOnly = (apiKeys: ApiKeyAuthenticator): GatewayAuth => ({ authenticator: new GatewayAuthenticator({ apiKeys }) });

/**
 * Builds the gateway's authentication and rate limiting from its config (main.ts), with the
 * readiness check and the shutdown steps of the parts that hold connections.
 */
export function createGatewayAuth(input: {
  config: GatewayConfig;
  identity: InstanceType<typeof IdentityClient>;
  internalAuth: InternalAuth;
  logger: Logger;
  registry: Registry;
}): { auth: GatewayAuth; checks: ReadinessCheck[]; parts: Array<{ name: string; stop: () => Promise<void> }> } {
  const { config, identity, logger, registry } = input;
  const jwt = { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  const acceptsTokens = config.JWT_HS256_SECRET !== undefined || config.JWT_JWKS_URL !== undefined;
  const authenticator = new GatewayAuthenticator({
    apiKeys: new ApiKeyAuthenticator(identity, config.API_KEY_CACHE_TTL_MS),
    ...(acceptsTokens
      ? {
          tokens: new TokenVerifier({
            ...jwt,
            hs256Secret: config.JWT_HS256_SECRET,
            jwksUrl: config.JWT_JWKS_URL,
            clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
          }),
          organizations: new OrganizationCheck(identity, config.API_KEY_CACHE_TTL_MS),
        }
      : {}),
  });
  // As every backend client (backends.ts): ListApiKeys retried once on UNAVAILABLE, Create and Revoke never.
  const apiKeys = new ApiKeysClient(config.IDENTITY_GRPC_ADDR, insecureChannel, backendClientOptions(input.internalAuth, ApiKeysService));
  const auth: GatewayAuth = {
    authenticator,
    apiKeys,
    ...(config.JWT_HS256_SECRET
      ? { dashboardTokens: new DashboardTokenIssuer({ ...jwt, hs256Secret: config.JWT_HS256_SECRET, ttlSeconds: config.JWT_TTL_SECONDS }) }
      : {}),
  };
  const parts: Array<{ name: string; stop: () => Promise<void> }> = [{ name: 'api-keys-client', stop: async () => apiKeys.close() }];
  const checks: ReadinessCheck[] = [];
  if (config.GATEWAY_RATE_LIMIT_PER_SECOND > 0) {
    const limiter = new OrganizationRateLimiter(
      createRateLimitRedis(config.REDIS_URL),
      { limit: { perSecond: config.GATEWAY_RATE_LIMIT_PER_SECOND, burst: config.GATEWAY_RATE_LIMIT_BURST }, redisGraceMs: config.RATE_LIMIT_REDIS_GRACE_MS },
      logger,
      registry,
    );
    auth.rateLimiter = limiter;
    checks.push({ name: 'rate-limit-redis', check: () => limiter.ping(), critical: false });
    parts.push({ name: 'rate-limit-redis', stop: () => limiter.close() });
  }
  return { auth, checks, parts };
}
