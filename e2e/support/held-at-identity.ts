import type { RunningSystem } from '@polaris/dev/launcher';
import { freePort, startPrivate } from './private-services';
import { throwawayPostgres, type ThrowawayPostgres } from './throwaway-postgres';
import type { Tenant } from './tenants';

export interface HeldAtIdentity {
  system: RunningSystem;
  /** The private rating-worker's database: lock a table there to hold every request at Identity. */
  pgdb: ThrowawayPostgres;
  tenant: Tenant;
  /**
   * `keys` distinct keys of the tenant (the first is tenant.apiKey). Concurrent requests with one
   * key share one Identity call (single-flight), so clients that must each be held at Identity,
   * where PostgreSQL counts them, each use a key of their own.
   */
  apiKeys: string[];
  httpPort: number;
  opsPort: number;
}

/**
 * A private front service (collector or gateway) whose every request asks a private Identity
 * (no key cache), over a PostgreSQL database of the test's own: locking a table there holds the
 * requests in flight at a known point, without any timing.
 */
export async function startHeldAtIdentity(
  label: string,
  front: 'collector' | 'gateway',
  env: Record<string, string>,
  shutdownTimeoutMs: number,
  keys = 1,
): Promise<HeldAtIdentity> {
  const pgdb = await throwawayPostgres();
  const tenant = await pgdb.createTenant();
  const apiKeys = [tenant.apiKey];
  while (apiKeys.length < keys) apiKeys.push(await pgdb.createApiKey(tenant.orgId));
  const identityPort = await freePort();
  const httpPort = await freePort();
  const opsPort = await freePort();
  const system = await startPrivate(label, [
    {
      name: 'rating-worker',
      opsPort: await freePort(),
      env: { DATABASE_URL: pgdb.url, GRPC_PORT: String(identityPort), SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) },
    },
    {
      name: front,
      opsPort,
      env: {
        HTTP_PORT: String(httpPort),
        IDENTITY_GRPC_ADDR: `127.0.0.1:${identityPort}`,
        API_KEY_CACHE_TTL_MS: '0',
        SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
        ...env,
      },
    },
  ]);
  return { system, pgdb, tenant, apiKeys, httpPort, opsPort };
}
