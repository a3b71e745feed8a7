import { randomUUID } from 'node:crypto';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import type { RunningSystem, ServiceSpec } from '@polaris/dev/launcher';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { apiKeys, organizations } from '@polaris/postgres';
import { MeterCatalogClient, type SyncCatalogResponse } from '@polaris/proto';
import type { ApiKeyScope } from '@polaris/shared/auth';
import { callerMetadata } from './internal-token';
import { freePort, serviceOf, startPrivate } from './private-services';
import type { Tenant } from './tenants';
import { throwawayPostgres, type ThrowawayPostgres } from './throwaway-postgres';
import { createPrivateTopic, deleteTopicAndGroup, groupReached, topicEnds } from './topics';

/**
 * A whole Polaris of its own for a meter test: a rating-worker on a throwaway PostgreSQL (its own
 * catalog revisions, sink leases and backfill queue), a sink-worker on a throwaway ClickHouse
 * database and a private topic, a collector producing to that topic, and a gateway in front.
 * A test may then kill its sink, hold its backfills back or shrink its backfill pages without
 * touching any other test: the shared system's backfills wait for every sink lease in its
 * database, so a sink killed there would hold back everyone's.
 *
 * The meter settings are those of the shared e2e system (launcher localSpecs): leases of 15 s,
 * a grace of 5 s, a catalog sync every second.
 */
export interface MeterSystem {
  gatewayUrl: string;
  collectorUrl: string;
  /** The rating-worker's database (meters, versions, runs, leases). */
  databaseUrl: string;
  /** The rating-worker's gRPC address (Meters, MeterCatalog). */
  ratingWorkerAddr: string;
  clickhouse: ThrowawayDatabase;
  topic: string;
  group: string;
  /** An organization of this system with one key of these scopes (all three by default). */
  createTenant(scopes?: ApiKeyScope[]): Promise<Tenant>;
  /** The ops port (/metrics, /readyz) of the sink-worker started last. */
  sinkOpsPort(): number;
  /** SIGKILLs the sink-worker: no drain, no commit, its lease left to expire. */
  killSink(): Promise<void>;
  /** Starts a sink-worker again, on the same gRPC port (the gateway's Usage address) and group. */
  restartSink(readyDeadlineMs?: number): Promise<void>;
  /** True once the sink's group has committed everything on the topic so far. */
  caughtUp(): Promise<true | undefined>;
  stop(): Promise<void>;
}

export interface MeterSystemOptions {
  label: string;
  /** Extra sink-worker settings (BACKFILL_PAGE_SIZE, CLICKHOUSE_URL through a proxy, …). */
  sinkEnv?: Record<string, string>;
  /** Extra rating-worker settings (THRESHOLD_EVALUATION_INTERVAL_MS, …). */
  ratingEnv?: Record<string, string>;
  partitions?: number;
}

export async function startMeterSystem(opts: MeterSystemOptions): Promise<MeterSystem> {
  const started: RunningSystem[] = [];
  const group = `e2e-${opts.label}-${randomUUID().slice(0, 8)}`;
  let postgres: ThrowawayPostgres | undefined;
  let clickhouse: ThrowawayDatabase | undefined;
  let topic: string | undefined;
  let sinkSystem: RunningSystem | undefined;
  let sinkStarts = 0;
  let sinkOpsPort = 0;

  const stop = async () => {
    const problems: unknown[] = [];
    for (const s of [sinkSystem, ...started.reverse()]) await s?.stop().catch((err: unknown) => problems.push(err));
    if (topic) await deleteTopicAndGroup(topic, group).catch(() => undefined);
    await clickhouse?.drop().catch(() => undefined);
    await postgres?.drop().catch(() => undefined);
    if (problems.length > 0) throw problems[0];
  };

  try {
    postgres = await throwawayPostgres();
    clickhouse = await throwawayDatabase();
    topic = await createPrivateTopic(opts.label, opts.partitions ?? 2);
    const [ratingGrpc, sinkGrpc, collectorGrpc, collectorHttp, gatewayHttp] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const ratingWorkerAddr = `127.0.0.1:${ratingGrpc}`;

    started.push(
      await startPrivate(`${opts.label}-rating-worker`, [
        {
          name: 'rating-worker',
          opsPort: await freePort(),
          env: {
            DATABASE_URL: postgres.appUrl,
            GRPC_PORT: String(ratingGrpc),
            METER_LEASE_TTL_MS: '15000',
            METER_LEASE_GRACE_MS: '5000',
            // Its own sink's Usage API (rating estimates, usage thresholds), not the shared system's.
            USAGE_GRPC_ADDR: `127.0.0.1:${sinkGrpc}`,
            ...opts.ratingEnv,
          },
        },
      ]),
    );

    const sinkSpec = async (): Promise<ServiceSpec> => ({
      name: 'sink-worker',
      opsPort: await freePort(),
      env: {
        GRPC_PORT: String(sinkGrpc),
        CLICKHOUSE_DATABASE: (clickhouse as ThrowawayDatabase).database,
        EVENTS_TOPIC: topic as string,
        KAFKA_GROUP_ID: group,
        METERS_GRPC_ADDR: ratingWorkerAddr,
        METER_CATALOG_SYNC_INTERVAL_MS: '1000',
        METER_LEASE_SAFETY_MARGIN_MS: '5000',
        BACKFILL_POLL_INTERVAL_MS: '500',
        ...opts.sinkEnv,
      },
    });
    const startSink = async (readyDeadlineMs?: number) => {
      sinkStarts++;
      const spec = await sinkSpec();
      sinkOpsPort = spec.opsPort;
      sinkSystem = await startPrivate(`${opts.label}-sink-${sinkStarts}`, [spec], readyDeadlineMs);
    };
    await startSink();

    started.push(
      await startPrivate(`${opts.label}-edge`, [
        {
          name: 'collector',
          opsPort: await freePort(),
          env: { HTTP_PORT: String(collectorHttp), GRPC_PORT: String(collectorGrpc), EVENTS_TOPIC: topic, IDENTITY_GRPC_ADDR: ratingWorkerAddr },
        },
        {
          name: 'gateway',
          opsPort: await freePort(),
          env: {
            HTTP_PORT: String(gatewayHttp),
            IDENTITY_GRPC_ADDR: ratingWorkerAddr,
            METERS_GRPC_ADDR: ratingWorkerAddr,
            USAGE_GRPC_ADDR: `127.0.0.1:${sinkGrpc}`,
            INGEST_GRPC_ADDR: `127.0.0.1:${collectorGrpc}`,
          },
        },
      ]),
    );

    const databaseUrl = postgres.url;
    return {
      gatewayUrl: `http://127.0.0.1:${gatewayHttp}/graphql`,
      collectorUrl: `http://127.0.0.1:${collectorHttp}`,
      databaseUrl,
      ratingWorkerAddr,
      clickhouse,
      topic,
      group,
      createTenant: (scopes = ['events:write', 'usage:read', 'meters:write']) => createTenantIn(databaseUrl, scopes),
      sinkOpsPort: () => sinkOpsPort,
      async killSink() {
        const victim = serviceOf(sinkSystem, 'sink-worker');
        victim.process.kill('SIGKILL');
        if (!(await victim.process.waitForExit(10_000))) throw new Error(`the sink-worker (pid ${victim.pid}) survived SIGKILL`);
        sinkSystem = undefined; // killed on purpose: nothing to stop
      },
      restartSink: startSink,
      caughtUp: async () => groupReached(group, topic as string, await topicEnds(topic as string)),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** An organization with one API key, in the given database, as `polaris org create` and `api-key create` write them. */
export async function createTenantIn(databaseUrl: string, scopes: ApiKeyScope[]): Promise<Tenant> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const slug = `e2e-${randomUUID().slice(0, 8)}`;
    const org = await organizations.create(client, { name: slug, slug });
    const { key } = await apiKeys.create(client, { organizationId: org.id, name: 'e2e', scopes });
    return { orgId: org.id, apiKey: key };
  } finally {
    await client.end();
  }
}

/**
 * A sink that synced the meter catalog once and then stopped following it (a slow or stuck
 * replica): its lease holds the revision it synced, so no backfill of a version made after that
 * may start (docs/meters.md, "Catalog revisions, leases and backfill") until it catches up or its
 * lease expires. It speaks MeterCatalog.SyncCatalog as the sink-worker does, nothing more.
 */
export interface LaggingSink {
  /** Takes (or renews) the lease at the catalog's current revision; resolves to that revision. */
  sync(): Promise<string>;
  close(): void;
}

export function laggingSink(ratingWorkerAddr: string): LaggingSink {
  const client = new MeterCatalogClient(ratingWorkerAddr, credentials.createInsecure());
  const instanceId = `e2e-lagging-sink-${randomUUID().slice(0, 8)}`;
  return {
    async sync() {
      const metadata = await callerMetadata(MeterCatalogClient.serviceName, { caller: 'sink-worker' });
      return new Promise<string>((resolve, reject) => {
        client.syncCatalog({ instanceId, takeLease: true, holdingRevision: '' }, metadata, { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res?: SyncCatalogResponse) =>
          err || !res ? reject(err ?? new Error('SyncCatalog answered nothing')) : resolve(res.revision),
        );
      });
    },
    close: () => client.close(),
  };
}
