import { randomUUID } from 'node:crypto';
import type { RunningSystem, ServiceSpec } from '@polaris/dev/launcher';
import { throwawayDatabase, type ClickHouseConnection, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { createTenantIn } from '../../support/meters-system';
import { freePort, serviceOf, startPrivate } from '../../support/private-services';
import type { Tenant } from '../../support/tenants';
import { throwawayPostgres, type ThrowawayPostgres } from '../../support/throwaway-postgres';
import { createPrivateTopic, deleteTopicAndGroup, groupReached, MAIN_BROKERS, topicEnds } from '../../support/topics';

/**
 * A whole Polaris of its own for a fault scenario: a rating-worker on a throwaway PostgreSQL, a
 * sink-worker on a throwaway ClickHouse database, a collector and a gateway, on a topic and a
 * dead-letter topic of its own. The broker and the ClickHouse server are the local stack's unless
 * a scenario brings its own (to stop them without touching any other test). The sink and the
 * collector can be SIGKILLed and started again: the collector on the same HTTP port, so clients
 * retry to the same URL, the sink on the same group and gRPC port.
 */
export interface FaultSystem {
  collectorUrl: string;
  gatewayUrl: string;
  databaseUrl: string;
  clickhouse: ThrowawayDatabase;
  brokers: string[];
  topic: string;
  dlqTopic: string;
  group: string;
  createTenant(): Promise<Tenant>;
  sinkOpsPort(): number;
  killSink(): Promise<void>;
  restartSink(): Promise<void>;
  killCollector(): Promise<void>;
  restartCollector(): Promise<void>;
  /** True once the sink's group has committed everything on the topic so far. */
  caughtUp(): Promise<true | undefined>;
  stop(): Promise<void>;
}

export interface FaultSystemOptions {
  label: string;
  brokers?: string[];
  clickhouse?: ClickHouseConnection;
  partitions?: number;
  /**
   * The sink's consumer session (KAFKA_SESSION_TIMEOUT_MS): a SIGKILLed sink holds its partitions
   * this long before its successor gets them. Default: the production 30 s.
   */
  sessionTimeoutMs?: number;
}

async function sigkill(system: RunningSystem | undefined, name: 'sink-worker' | 'collector'): Promise<void> {
  const victim = serviceOf(system, name);
  victim.process.kill('SIGKILL');
  if (!(await victim.process.waitForExit(10_000))) throw new Error(`the ${name} (pid ${victim.pid}) survived SIGKILL`);
}

export async function startFaultSystem(opts: FaultSystemOptions): Promise<FaultSystem> {
  const brokers = opts.brokers ?? MAIN_BROKERS;
  const group = `e2e-${opts.label}-${randomUUID().slice(0, 8)}`;
  const started: RunningSystem[] = [];
  let postgres: ThrowawayPostgres | undefined;
  let clickhouse: ThrowawayDatabase | undefined;
  let topic: string | undefined;
  let dlqTopic: string | undefined;
  let sink: RunningSystem | undefined;
  let collector: RunningSystem | undefined;
  let sinkStarts = 0;
  let collectorStarts = 0;
  let sinkOpsPort = 0;

  const stop = async () => {
    const problems: unknown[] = [];
    for (const s of [collector, sink, ...started.reverse()]) await s?.stop().catch((err: unknown) => problems.push(err));
    if (topic) await deleteTopicAndGroup(topic, group, brokers).catch(() => undefined);
    if (dlqTopic) await deleteTopicAndGroup(dlqTopic, group, brokers).catch(() => undefined);
    // A private ClickHouse server goes whole with its data directory: nothing to drop there.
    if (opts.clickhouse) await clickhouse?.client.close().catch(() => undefined);
    else await clickhouse?.drop().catch(() => undefined);
    await postgres?.drop().catch(() => undefined);
    if (problems.length > 0) throw problems[0];
  };

  try {
    postgres = await throwawayPostgres();
    clickhouse = await throwawayDatabase(opts.clickhouse ? { connection: opts.clickhouse } : {});
    topic = await createPrivateTopic(opts.label, opts.partitions ?? 3, brokers);
    dlqTopic = await createPrivateTopic(`${opts.label}-dlq`, 1, brokers);
    const [ratingGrpc, sinkGrpc, collectorGrpc, collectorHttp, gatewayHttp] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    const ratingWorkerAddr = `127.0.0.1:${ratingGrpc}`;
    const kafkaEnv = { KAFKA_BROKERS: brokers.join(','), EVENTS_TOPIC: topic };

    started.push(
      await startPrivate(`${opts.label}-rating-worker`, [
        {
          name: 'rating-worker',
          opsPort: await freePort(),
          env: { DATABASE_URL: postgres.url, GRPC_PORT: String(ratingGrpc), USAGE_GRPC_ADDR: `127.0.0.1:${sinkGrpc}`, METER_LEASE_TTL_MS: '15000', METER_LEASE_GRACE_MS: '5000' },
        },
      ]),
    );

    const startSink = async () => {
      sinkStarts++;
      const spec: ServiceSpec = {
        name: 'sink-worker',
        opsPort: await freePort(),
        env: {
          ...kafkaEnv,
          GRPC_PORT: String(sinkGrpc),
          CLICKHOUSE_URL: (opts.clickhouse ?? { url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123' }).url,
          CLICKHOUSE_DATABASE: (clickhouse as ThrowawayDatabase).database,
          EVENTS_DLQ_TOPIC: dlqTopic as string,
          KAFKA_GROUP_ID: group,
          ...(opts.sessionTimeoutMs ? { KAFKA_SESSION_TIMEOUT_MS: String(opts.sessionTimeoutMs) } : {}),
          SINK_LAG_POLL_INTERVAL_MS: '1000',
          METERS_GRPC_ADDR: ratingWorkerAddr,
          METER_CATALOG_SYNC_INTERVAL_MS: '1000',
          METER_LEASE_SAFETY_MARGIN_MS: '5000',
          BACKFILL_POLL_INTERVAL_MS: '500',
        },
      };
      sinkOpsPort = spec.opsPort;
      // The successor of a killed sink waits out the dead member's session before it joins.
      sink = await startPrivate(`${opts.label}-sink-${sinkStarts}`, [spec], 60_000);
    };
    const startCollector = async () => {
      collectorStarts++;
      collector = await startPrivate(`${opts.label}-collector-${collectorStarts}`, [
        {
          name: 'collector',
          opsPort: await freePort(),
          env: { ...kafkaEnv, HTTP_PORT: String(collectorHttp), GRPC_PORT: String(collectorGrpc), IDENTITY_GRPC_ADDR: ratingWorkerAddr, PUBLISH_TIMEOUT_MS: '5000' },
        },
      ]);
    };
    await startSink();
    await startCollector();
    started.push(
      await startPrivate(`${opts.label}-gateway`, [
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
      collectorUrl: `http://127.0.0.1:${collectorHttp}`,
      gatewayUrl: `http://127.0.0.1:${gatewayHttp}/graphql`,
      databaseUrl,
      clickhouse,
      brokers,
      topic,
      dlqTopic,
      group,
      createTenant: () => createTenantIn(databaseUrl, ['events:write', 'usage:read', 'meters:write']),
      sinkOpsPort: () => sinkOpsPort,
      async killSink() {
        await sigkill(sink, 'sink-worker');
        sink = undefined; // killed on purpose: nothing to stop
      },
      restartSink: startSink,
      async killCollector() {
        await sigkill(collector, 'collector');
        collector = undefined;
      },
      restartCollector: startCollector,
      caughtUp: async () => groupReached(group, topic as string, await topicEnds(topic as string, brokers), brokers),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
