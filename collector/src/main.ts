// First: SIGTERM/SIGINT are handled from here on, while the rest loads (shared/src/service/signals.ts).
import '@polaris/shared/signals';
import { createHttpMetrics, runService } from '@polaris/shared/service';
import { createInternalAuth, createUnaryWrapper, insecureChannel, internalClientOptions, startGrpcServer } from '@polaris/shared/grpc';
import { createKafka, kafkaConnection } from '@polaris/shared/kafka';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import { createRateLimitRedis } from '@polaris/shared/rate-limit';
import { IdentityClient } from '@polaris/proto';
import { loadCollectorConfig } from './config';
import { EventPublisher } from './publish/event-publisher';
import { createHttpServer } from './http/http-server';
import { registerEventsRoute } from './http/events.route';
import { ingestService } from './ingest/ingest.grpc';
import { EventRateLimiter } from './rate-limit/event-rate-limiter';

await runService({
  name: 'collector',
  loadConfig: loadCollectorConfig,
  build: async ({ config, logger, registry }) => {
    const kafka = createKafka({ clientId: config.KAFKA_CLIENT_ID, connection: kafkaConnection(config), logger });
    const publisher = new EventPublisher(
      kafka,
      {
        topic: config.EVENTS_TOPIC,
        lingerMs: config.PUBLISH_LINGER_MS,
        maxBatch: config.PUBLISH_MAX_BATCH,
        maxBatchBytes: config.PUBLISH_MAX_BATCH_BYTES,
        compression: config.PUBLISH_COMPRESSION,
        maxRequestBytes: config.MAX_ENCODED_BYTES_PER_REQUEST,
        maxQueued: config.PUBLISH_MAX_QUEUED,
        timeoutMs: config.PUBLISH_TIMEOUT_MS,
      },
      logger,
      registry,
    );
    publisher.start();
    // One set of credentials: its tokens say "collector" to Identity, and it checks the gateway's on Ingest.
    const internalAuth = createInternalAuth(config, 'collector');
    const identity = new IdentityClient(config.IDENTITY_GRPC_ADDR, insecureChannel, internalClientOptions(internalAuth));
    const auth = new ApiKeyAuthenticator(identity, config.API_KEY_CACHE_TTL_MS);
    const timeWindow = { maxAgeMs: config.EVENT_MAX_AGE_DAYS * 86_400_000, maxFutureMs: config.EVENT_MAX_FUTURE_HOURS * 3_600_000 };

    const rateLimiter = new EventRateLimiter(
      createRateLimitRedis(config.REDIS_URL),
      {
        defaultLimit: config.RATE_LIMIT_EVENTS_PER_SECOND > 0 ? { eventsPerSecond: config.RATE_LIMIT_EVENTS_PER_SECOND, burst: config.RATE_LIMIT_BURST } : undefined,
        redisGraceMs: config.RATE_LIMIT_REDIS_GRACE_MS,
      },
      logger,
      registry,
    );

    const http = createHttpServer({
      logger,
      maxBodyBytes: config.MAX_BODY_BYTES,
      observe: createHttpMetrics(registry),
      requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    });
    registerEventsRoute(http, { auth, publisher, rateLimiter, maxEventsPerRequest: config.MAX_EVENTS_PER_REQUEST, timeWindow });
    await http.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });

    const grpc = await startGrpcServer({
      host: config.GRPC_HOST,
      port: config.GRPC_PORT,
      services: [ingestService(publisher, createUnaryWrapper(logger, registry), config.MAX_EVENTS_PER_REQUEST, timeWindow)],
      auth: internalAuth,
      logger,
    });

    return {
      // Redis is not critical: without it the collector fails open for a grace, then refuses.
      checks: [
        { name: 'broker', check: () => publisher.health() },
        { name: 'rate-limit-redis', check: () => rateLimiter.ping(), critical: false },
      ],
      // Stop taking requests, let in-flight publishes finish, then flush the producer.
      parts: [
        { name: 'http', stop: () => http.close() },
        { name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) },
        { name: 'publisher', stop: () => publisher.stop() },
        { name: 'identity-client', stop: async () => identity.close() },
        { name: 'rate-limit-redis', stop: () => rateLimiter.close() },
      ],
    };
  },
});
