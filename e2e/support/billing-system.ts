import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ApiKeyScope } from '@polaris/shared/auth';
import type { RunningSystem, ServiceSpec } from '@polaris/dev/launcher';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { eventually } from './http';
import { sendAll, type MeterEvent } from './meter-events';
import { createTenantIn } from './meters-system';
import { freePort, startPrivate } from './private-services';
import type { Tenant } from './tenants';
import { throwawayPostgres, type ThrowawayPostgres } from './throwaway-postgres';
import { createPrivateTopic, deleteTopicAndGroup, groupReached, topicEnds } from './topics';

/**
 * A Polaris of its own for the billing scenarios (docs/billing.md): rating-workers on a throwaway
 * PostgreSQL and a queue prefix of their own in the local stack's Redis, a sink-worker on a
 * throwaway ClickHouse database and a private topic, and a collector producing to it. No
 * gateway unless asked for (`gateway: true`): tests call the rating-worker's billing services as
 * the gateway does (gRPC, internal caller token), and send events through the collector's HTTP
 * API with an API key.
 *
 * The rating jobs run on test time, not production time: a scan every second, a settle delay of a
 * second (periods the scenarios bill closed long ago), retries after half a second. The grace
 * before automatic finalization is the test's choice. The collector takes events of any age, as
 * the shared e2e system's does: the scenarios bill months that lie past its 35-day default.
 */
export interface BillingSystem {
  collectorUrl: string;
  /** The GraphQL endpoint of the system's gateway, when it was started with one. */
  gatewayUrl: string | undefined;
  /** One gRPC address per rating-worker process (Customers, Plans, Subscriptions, Invoices, Meters). */
  ratingWorkerAddrs: string[];
  /** Their ops ports (/metrics, /readyz), in the same order. */
  ratingOpsPorts: number[];
  /** An organization of this system with one key; by default it may send events and read usage. */
  createTenant(scopes?: ApiKeyScope[]): Promise<Tenant>;
  /** Sends events through the collector (each batch answered 202), then waits until the sink has stored them all. */
  send(apiKey: string, events: readonly MeterEvent[]): Promise<void>;
  stop(): Promise<void>;
}

export interface BillingSystemOptions {
  label: string;
  /** INVOICE_GRACE_MS: how long after a period's end its draft is finalized automatically. */
  invoiceGraceMs: number;
  /** Rating-worker processes sharing the database, Redis and queue (replicas); 1 unless told. */
  ratingWorkers?: number;
  /** Also a gateway over the first rating-worker, the sink's Usage API and the collector's Ingest. */
  gateway?: boolean;
  /** More settings of the rating-workers (the notifier's: SMTP_URL, WEBHOOK_*), over the ones above. */
  ratingWorkerEnv?: Record<string, string>;
}

const EVENT_MAX_AGE_DAYS = '36500';

/** Deletes every Redis key under the queue prefix: the scan scheduler and the jobs the run left. */
async function dropQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function startBillingSystem(opts: BillingSystemOptions): Promise<BillingSystem> {
  const started: RunningSystem[] = [];
  const group = `e2e-${opts.label}-${randomUUID().slice(0, 8)}`;
  const queuePrefix = `e2e-${opts.label}-${randomUUID().slice(0, 8)}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:56379';
  let postgres: ThrowawayPostgres | undefined;
  let clickhouse: ThrowawayDatabase | undefined;
  let topic: string | undefined;

  const stop = async () => {
    const problems: unknown[] = [];
    for (const s of started.reverse()) await s.stop().catch((err: unknown) => problems.push(err));
    await dropQueueKeys(redisUrl, queuePrefix).catch(() => undefined);
    if (topic) await deleteTopicAndGroup(topic, group).catch(() => undefined);
    await clickhouse?.drop().catch(() => undefined);
    await postgres?.drop().catch(() => undefined);
    if (problems.length > 0) throw problems[0];
  };

  try {
    [postgres, clickhouse, topic] = await Promise.all([throwawayPostgres(), throwawayDatabase(), createPrivateTopic(opts.label, 2)]);
    const [sinkGrpc, collectorHttp, collectorGrpc] = [await freePort(), await freePort(), await freePort()];
    const ratingGrpc = await Promise.all(Array.from({ length: opts.ratingWorkers ?? 1 }, () => freePort()));
    const ratingWorkerAddrs = ratingGrpc.map((port) => `127.0.0.1:${port}`);
    const [firstRatingAddr] = ratingWorkerAddrs;
    if (!firstRatingAddr) throw new Error('a billing system needs at least one rating-worker');

    const ratingSpecs: ServiceSpec[] = [];
    for (const port of ratingGrpc) {
      ratingSpecs.push({
        name: 'rating-worker',
        opsPort: await freePort(),
        env: {
          DATABASE_URL: postgres.appUrl,
          REDIS_URL: redisUrl,
          GRPC_PORT: String(port),
          USAGE_GRPC_ADDR: `127.0.0.1:${sinkGrpc}`,
          METER_LEASE_TTL_MS: '15000',
          METER_LEASE_GRACE_MS: '5000',
          RATING_QUEUE_PREFIX: queuePrefix,
          RATING_SCAN_INTERVAL_MS: '1000',
          RATING_SETTLE_MS: '1000',
          RATING_BACKOFF_MS: '500',
          INVOICE_GRACE_MS: String(opts.invoiceGraceMs),
          ...opts.ratingWorkerEnv,
        },
      });
    }
    /** Starts copies side by side; each that started is stopped with the rest, even if another did not. */
    const startTogether = async (starts: Array<Promise<RunningSystem>>) => {
      const outcomes = await Promise.allSettled(starts);
      for (const o of outcomes) if (o.status === 'fulfilled') started.push(o.value);
      const failed = outcomes.find((o) => o.status === 'rejected');
      if (failed) throw failed.reason;
    };
    // The replicas start side by side, as a Deployment's pods do.
    await startTogether(ratingSpecs.map((spec, i) => startPrivate(`${opts.label}-rating-worker-${i + 1}`, [spec])));

    await startTogether([
      startPrivate(`${opts.label}-sink`, [
        {
          name: 'sink-worker',
          opsPort: await freePort(),
          env: {
            GRPC_PORT: String(sinkGrpc),
            CLICKHOUSE_DATABASE: clickhouse.database,
            EVENTS_TOPIC: topic,
            KAFKA_GROUP_ID: group,
            METERS_GRPC_ADDR: firstRatingAddr,
            METER_CATALOG_SYNC_INTERVAL_MS: '1000',
            METER_LEASE_SAFETY_MARGIN_MS: '5000',
            BACKFILL_POLL_INTERVAL_MS: '500',
          },
        },
      ]),
      startPrivate(`${opts.label}-collector`, [
        {
          name: 'collector',
          opsPort: await freePort(),
          env: {
            HTTP_PORT: String(collectorHttp),
            GRPC_PORT: String(collectorGrpc),
            EVENTS_TOPIC: topic,
            IDENTITY_GRPC_ADDR: firstRatingAddr,
            REDIS_URL: redisUrl,
            EVENT_MAX_AGE_DAYS,
          },
        },
      ]),
    ]);

    let gatewayUrl: string | undefined;
    if (opts.gateway) {
      const gatewayHttp = await freePort();
      await startTogether([
        startPrivate(`${opts.label}-gateway`, [
          {
            name: 'gateway',
            opsPort: await freePort(),
            env: {
              HTTP_PORT: String(gatewayHttp),
              IDENTITY_GRPC_ADDR: firstRatingAddr,
              METERS_GRPC_ADDR: firstRatingAddr,
              USAGE_GRPC_ADDR: `127.0.0.1:${sinkGrpc}`,
              INGEST_GRPC_ADDR: `127.0.0.1:${collectorGrpc}`,
            },
          },
        ]),
      ]);
      gatewayUrl = `http://127.0.0.1:${gatewayHttp}/graphql`;
    }

    const databaseUrl = postgres.url;
    const collectorUrl = `http://127.0.0.1:${collectorHttp}`;
    const eventsTopic = topic;
    return {
      collectorUrl,
      gatewayUrl,
      ratingWorkerAddrs,
      ratingOpsPorts: ratingSpecs.map((s) => s.opsPort),
      createTenant: (scopes = ['events:write', 'usage:read']) => createTenantIn(databaseUrl, scopes),
      async send(apiKey, events) {
        await sendAll(collectorUrl, apiKey, events);
        // The sink commits a batch only after inserting it: once its group reached the topic's end, every event is stored.
        const ends = await topicEnds(eventsTopic);
        await eventually(async () => groupReached(group, eventsTopic, ends), 'the sink to store the events sent', 30_000, 100);
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
