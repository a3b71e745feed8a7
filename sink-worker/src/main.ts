// First: SIGTERM/SIGINT are handled from here on, while the rest loads (shared/src/service/signals.ts).
import '@polaris/shared/signals';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createClickHouse, createClickHouseReader, eventsRawWriter, meterBackfillStore, meterUsageReader, pingClickHouse, recentEventsReader } from '@polaris/clickhouse';
import { MeterCatalogClient, MetersClient } from '@polaris/proto';
import { runService, type LivenessCheck, type ReadinessCheck, type Stoppable } from '@polaris/shared/service';
import { callUnary, createInternalAuth, createUnaryWrapper, insecureChannel, internalClientOptions, startGrpcServer } from '@polaris/shared/grpc';
import { createKafka, kafkaConnection } from '@polaris/shared/kafka';
import { loadSinkWorkerConfig } from './config';
import { EventsConsumer } from './events/events.consumer';
import { identityRetentionDays } from './events/dedup-window';
import { flushLimits } from './events/flush-buffer';
import { identityFilterSource } from './events/identity-filter-source';
import { IdentityRetention } from './events/identity-retention';
import { BackfillRunner } from './meters/backfill.runner';
import { CatalogLease } from './meters/catalog-lease';
import { LiveMeters } from './meters/live-meters';
import { BatchMetrics } from './metrics/batch-metrics';
import { ConsumerLagPoller } from './metrics/consumer-lag.poller';
import { backfillCatalogVia, catalogSyncVia, catalogViewVia } from './meters/meter-catalog.client';
import { CatalogView } from './usage/catalog-view';
import { usageService } from './usage/usage.grpc';

// The sink-worker owns ClickHouse: it writes events (capability "sink") and answers usage
// queries (capability "usage-api"). One process may play both roles; k8s scales them apart.
await runService({
  name: 'sink-worker',
  loadConfig: loadSinkWorkerConfig,
  build: async ({ config, logger, registry, fail }) => {
    const ch = createClickHouse(config);
    const checks: ReadinessCheck[] = [{ name: 'clickhouse', check: () => pingClickHouse(ch) }];
    const liveness: LivenessCheck[] = [];
    const parts: Stoppable[] = [];
    const internalAuth = createInternalAuth(config, 'sink-worker');
    // The rating-worker owns the meter catalog; the sink reaches it only through gRPC.
    const meterClientOptions = internalClientOptions(internalAuth);
    const catalogClient = new MeterCatalogClient(config.METERS_GRPC_ADDR, insecureChannel, meterClientOptions);
    const metersClient = new MetersClient(config.METERS_GRPC_ADDR, insecureChannel, meterClientOptions);
    // Names this process in leases and backfill claims: unique per start, readable in logs.
    const instanceId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

    if (config.CAPABILITIES.includes('usage-api')) {
      // Reads for API callers use the read client: read-only, bounded in time and rows.
      const reads = createClickHouseReader(config);
      // What stored events count for (Usage.ListEvents): the catalog as the sink stamps with it, read without a lease.
      const catalogView = new CatalogView({ sync: catalogViewVia(catalogClient, instanceId, config.METERS_GRPC_DEADLINE_MS), maxAgeMs: config.METER_CATALOG_SYNC_INTERVAL_MS });
      const grpc = await startGrpcServer({
        host: config.GRPC_HOST,
        port: config.GRPC_PORT,
        services: [
          usageService(
            {
              reader: meterUsageReader(reads),
              lookup: (organizationId, slug) =>
                callUnary('meters', metersClient.getMeter.bind(metersClient), { organizationId, slug }, config.METERS_GRPC_DEADLINE_MS, { actingFor: organizationId }),
            },
            createUnaryWrapper(logger, registry),
            { reader: recentEventsReader(reads), catalog: () => catalogView.current() },
          ),
        ],
        auth: internalAuth,
        logger,
      });
      parts.push({ name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) });
      parts.push({ name: 'clickhouse-reads', stop: () => reads.close() });
    }
    if (config.CAPABILITIES.includes('sink')) {
      const lease = new CatalogLease({
        sync: catalogSyncVia(catalogClient, instanceId, config.METERS_GRPC_DEADLINE_MS),
        safetyMarginMs: config.METER_LEASE_SAFETY_MARGIN_MS,
      });
      const liveMeters = new LiveMeters(lease, { syncIntervalMs: config.METER_CATALOG_SYNC_INTERVAL_MS }, logger, registry);
      await liveMeters.start();
      checks.push({ name: 'meter-catalog', check: async () => liveMeters.health() });
      parts.push({ name: 'meter-catalog', stop: async () => liveMeters.stop() });
      const kafka = createKafka({ clientId: config.KAFKA_CLIENT_ID, connection: kafkaConnection(config), logger });
      const batchMetrics = new BatchMetrics(registry);
      const filterSource = identityFilterSource(kafka, ch, config.EVENTS_TOPIC);
      const consumer = new EventsConsumer(
        kafka,
        eventsRawWriter(ch),
        {
          groupId: config.KAFKA_GROUP_ID,
          topic: config.EVENTS_TOPIC,
          dlqTopic: config.EVENTS_DLQ_TOPIC,
          stallTimeoutMs: config.SINK_STALL_TIMEOUT_MS,
          dedupWindowDays: config.SINK_DEDUP_WINDOW_DAYS,
          flush: flushLimits(config),
          sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
          meters: liveMeters,
          onBatchCommitted: (batch) => batchMetrics.observe(batch),
          identityFilters: { source: filterSource },
          // Stopped for good (kafkajs will not restart it): exit, so that the pod is restarted.
          onStopped: (err) => fail(new Error(`events consumer stopped: ${err.message}`, { cause: err })),
        },
        logger,
        registry,
      );
      await consumer.start();
      // Readiness: joined and making progress (not stalled). Liveness: not stopped for good.
      checks.push({ name: 'consumer', check: async () => consumer.health() });
      liveness.push({ name: 'consumer', check: () => consumer.liveness() });
      parts.push({ name: 'consumer', stop: () => consumer.stop() });
      parts.push({ name: 'identity-filter-source', stop: () => filterSource.close() });
      const retention = new IdentityRetention(ch, identityRetentionDays(config), logger.child({ part: 'identity-retention' }));
      retention.start();
      parts.push({ name: 'identity-retention', stop: async () => retention.stop() });
      const lag = new ConsumerLagPoller(kafka, { groupId: config.KAFKA_GROUP_ID, topic: config.EVENTS_TOPIC, intervalMs: config.SINK_LAG_POLL_INTERVAL_MS }, logger, registry);
      lag.start();
      parts.push({ name: 'consumer-lag', stop: () => lag.stop() });
    }
    if (config.CAPABILITIES.includes('backfill')) {
      const runner = new BackfillRunner(
        backfillCatalogVia(catalogClient, instanceId, config.METERS_GRPC_DEADLINE_MS),
        meterBackfillStore(ch),
        { pollIntervalMs: config.BACKFILL_POLL_INTERVAL_MS, pageSize: config.BACKFILL_PAGE_SIZE },
        logger,
        registry,
      );
      runner.start();
      parts.push({ name: 'backfill', stop: () => runner.stop() });
    }
    parts.push({ name: 'meter-clients', stop: async () => (catalogClient.close(), metersClient.close()) });
    parts.push({ name: 'clickhouse', stop: () => ch.close() });
    return { checks, liveness, parts };
  },
});
