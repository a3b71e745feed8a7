import {
  initTelemetry, createLogger, createMetricsRegistry, createKafka, createUnaryWrapper, channelOptions, insecureChannel,
  runService, startGrpcServer, startOpsServer, ApiKeyAuthenticator,
} from '@polaris/shared';
import { IdentityClient } from '@polaris/proto';
import { loadCollectorConfig } from './config';

import { EventPublisher } from './publish/event-publisher';
import { createHttpServer } from './http/http-server';
import { registerEventsRoute } from './http/events.route';
import { ingestService } from './ingest/ingest.grpc';

const SERVICE = 'collector';
const config = loadCollectorConfig();
const telemetry = initTelemetry(config.OTEL_SERVICE_NAME ?? SERVICE, config.OTEL_EXPORTER_OTLP_ENDPOINT);
const logger = createLogger(SERVICE, config.LOG_LEVEL);

await runService({
  name: SERVICE,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async () => {
    const registry = createMetricsRegistry(SERVICE);
    const kafka = createKafka({ clientId: config.KAFKA_CLIENT_ID, brokers: config.KAFKA_BROKERS, logger });
    const publisher = new EventPublisher(
      kafka,
      { topic: config.EVENTS_TOPIC, lingerMs: config.PUBLISH_LINGER_MS, maxBatch: config.PUBLISH_MAX_BATCH, timeoutMs: config.PUBLISH_TIMEOUT_MS },
      logger,
      registry,
    );
    publisher.start();
    const identity = new IdentityClient(config.IDENTITY_GRPC_ADDR, insecureChannel, channelOptions);
    const auth = new ApiKeyAuthenticator(identity, config.API_KEY_CACHE_TTL_MS);

    const http = createHttpServer({ logger, maxBodyBytes: config.MAX_BODY_BYTES });
    registerEventsRoute(http, { auth, publisher, maxEventsPerRequest: config.MAX_EVENTS_PER_REQUEST });
    await http.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });

    const grpc = await startGrpcServer({
      host: config.GRPC_HOST,
      port: config.GRPC_PORT,
      services: [ingestService(publisher, createUnaryWrapper(logger, registry), config.MAX_EVENTS_PER_REQUEST)],
      logger,
    });
    const ops = await startOpsServer({
      host: config.OPS_HOST,
      port: config.OPS_PORT,
      registry,
      checks: [
        { name: 'broker', check: () => publisher.health() },
      ],
      logger,
    });

    // Drain order: stop taking requests, let in-flight publishes finish, then flush the producer.
    return [
      { name: 'readiness', stop: async () => ops.markShuttingDown() },
      { name: 'http', stop: () => http.close() },
      { name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) },
      { name: 'publisher', stop: () => publisher.stop() },
      { name: 'identity-client', stop: async () => identity.close() },
      { name: 'ops', stop: () => ops.stop() },
      { name: 'telemetry', stop: () => telemetry.shutdown() },
    ];
  },
});
