import { createClickHouse, eventsRawWriter, pingClickHouse, usageReader } from '@polaris/clickhouse';
import { runService, type LivenessCheck, type ReadinessCheck, type Stoppable } from '@polaris/shared/service';
import { createUnaryWrapper, startGrpcServer } from '@polaris/shared/grpc';
import { createKafka } from '@polaris/shared/kafka';
import { loadSinkWorkerConfig } from './config';
import { EventsConsumer } from './events/events.consumer';
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

    if (config.CAPABILITIES.includes('usage-api')) {
      const grpc = await startGrpcServer({
        host: config.GRPC_HOST,
        port: config.GRPC_PORT,
        services: [usageService(usageReader(ch), createUnaryWrapper(logger, registry))],
        logger,
      });
      parts.push({ name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) });
    }
    if (config.CAPABILITIES.includes('sink')) {
      const kafka = createKafka({ clientId: config.KAFKA_CLIENT_ID, brokers: config.KAFKA_BROKERS, logger });
      const consumer = new EventsConsumer(
        kafka,
        eventsRawWriter(ch),
        {
          groupId: config.KAFKA_GROUP_ID,
          topic: config.EVENTS_TOPIC,
          dlqTopic: config.EVENTS_DLQ_TOPIC,
          stallTimeoutMs: config.SINK_STALL_TIMEOUT_MS,
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
    }
    parts.push({ name: 'clickhouse', stop: () => ch.close() });
    return { checks, liveness, parts };
  },
});
