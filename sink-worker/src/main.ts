import {
  createKafka, createClickHouse, createUnaryWrapper, pingClickHouse, runService, startGrpcServer, type ReadinessCheck, type Stoppable,
} from '@polaris/shared';
import { loadSinkWorkerConfig } from './config';
import { EventsRawWriter } from './events/events-raw.writer';
import { EventsConsumer } from './events/events.consumer';
import { usageService } from './usage/usage.grpc';

// The sink-worker owns ClickHouse: it writes events (capability "sink") and answers usage
// queries (capability "usage-api"). One process may play both roles; k8s scales them apart.
await runService({
  name: 'sink-worker',
  loadConfig: loadSinkWorkerConfig,
  build: async ({ config, logger, registry }) => {
    const ch = createClickHouse(config);
    const checks: ReadinessCheck[] = [{ name: 'clickhouse', check: () => pingClickHouse(ch) }];
    const parts: Stoppable[] = [];

    if (config.CAPABILITIES.includes('usage-api')) {
      const grpc = await startGrpcServer({
        host: config.GRPC_HOST,
        port: config.GRPC_PORT,
        services: [usageService(ch, createUnaryWrapper(logger, registry))],
        logger,
      });
      parts.push({ name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) });
    }
    if (config.CAPABILITIES.includes('sink')) {
      const kafka = createKafka({ clientId: config.KAFKA_CLIENT_ID, brokers: config.KAFKA_BROKERS, logger });
      const consumer = new EventsConsumer(
        kafka,
        new EventsRawWriter(ch),
        { groupId: config.KAFKA_GROUP_ID, topic: config.EVENTS_TOPIC, dlqTopic: config.EVENTS_DLQ_TOPIC },
        logger,
        registry,
      );
      await consumer.start();
      checks.push({ name: 'consumer', check: async () => consumer.health() });
      parts.push({ name: 'consumer', stop: () => consumer.stop() });
    }
    parts.push({ name: 'clickhouse', stop: () => ch.close() });
    return { checks, parts };
  },
});
