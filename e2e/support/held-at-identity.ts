import type { RunningSystem, ServiceSpec } from '@polaris/dev/launcher';
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

export interface HeldAtIdentityOptions {
  /** Distinct keys of the tenant to make (see HeldAtIdentity.apiKeys). */
  keys?: number;
  /**
   * Also a private Usage API (a sink-worker with only `usage-api`, on the suite's ClickHouse) and
   * Meters on the private rating-worker, both behind the gateway: meters are looked up in the
   * private database, where the tenant lives. Only for a gateway front.
   */
  usageApi?: boolean;
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
  opts: HeldAtIdentityOptions = {},
): Promise<HeldAtIdentity> {
  const pgdb = await throwawayPostgres();
  const tenant = await pgdb.createTenant();
  const apiKeys = [tenant.apiKey];
  while (apiKeys.length < (opts.keys ?? 1)) apiKeys.push(await pgdb.createApiKey(tenant.orgId));
  const identityPort = await freePort();
  const httpPort = await freePort();
  const opsPort = await freePort();
  const identity = `127.0.0.1:${identityPort}`;
  const shutdown = { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) };
  const usage: ServiceSpec[] = [];
  const frontEnv: Record<string, string> = {};
  if (opts.usageApi) {
    const usagePort = await freePort();
    usage.push({ name: 'sink-worker', opsPort: await freePort(), env: { CAPABILITIES: 'usage-api', GRPC_PORT: String(usagePort), METERS_GRPC_ADDR: identity, ...shutdown } });
    Object.assign(frontEnv, { USAGE_GRPC_ADDR: `127.0.0.1:${usagePort}`, METERS_GRPC_ADDR: identity });
  }
  const system = await startPrivate(label, [
    { name: 'rating-worker', opsPort: await freePort(), env: { DATABASE_URL: pgdb.appUrl, GRPC_PORT: String(identityPort), ...shutdown } },
    ...usage,
    {
      name: front,
      opsPort,
      env: { HTTP_PORT: String(httpPort), IDENTITY_GRPC_ADDR: identity, API_KEY_CACHE_TTL_MS: '0', ...shutdown, ...env, ...frontEnv },
    },
  ]);
  return { system, pgdb, tenant, apiKeys, httpPort, opsPort };
}
