import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { initTelemetry, createLogger, createMetricsRegistry, inServerSpan, runService, startOpsServer, ApiKeyAuthenticator } from '@polaris/shared';
import { loadGatewayConfig } from './config';
import { connectBackends } from './backends';
import { typeDefs } from './graphql/schema';
import { resolvers } from './graphql/resolvers';
import { contextFactory, type GatewayContext } from './graphql/context';

const SERVICE = 'gateway';
const config = loadGatewayConfig();
const telemetry = initTelemetry(config.OTEL_SERVICE_NAME ?? SERVICE, config.OTEL_EXPORTER_OTLP_ENDPOINT);
const logger = createLogger(SERVICE, config.LOG_LEVEL);

await runService({
  name: SERVICE,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async () => {
    const registry = createMetricsRegistry(SERVICE);
    const backends = connectBackends({ identity: config.IDENTITY_GRPC_ADDR, usage: config.USAGE_GRPC_ADDR, ingest: config.INGEST_GRPC_ADDR });
    const auth = new ApiKeyAuthenticator(backends.identity, config.API_KEY_CACHE_TTL_MS);
    const yoga = createYoga({
      schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
      context: contextFactory(auth, backends, config.BACKEND_DEADLINE_MS),
      graphiql: config.GRAPHIQL_ENABLED,
      logging: logger,
      landingPage: false,
    });
    // Each request continues the caller's trace; the gRPC calls it makes join it.
    const server = createServer((req, res) => {
      void inServerSpan(`${req.method ?? 'GET'} /graphql`, req.headers, async () => {
        await yoga(req, res);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
    });
    logger.info({ port: config.HTTP_PORT }, 'GraphQL listening on /graphql');

    // The gateway is ready when it can serve; a backend outage shows as a 503 on the field that
    // needs it, not as every gateway pod leaving the load balancer.
    const ops = await startOpsServer({ host: config.OPS_HOST, port: config.OPS_PORT, registry, checks: [], logger });
    return [
      { name: 'readiness', stop: async () => ops.markShuttingDown() },
      {
        name: 'http',
        stop: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
      },
      { name: 'backends', stop: async () => backends.close() },
      { name: 'ops', stop: () => ops.stop() },
      { name: 'telemetry', stop: () => telemetry.shutdown() },
    ];
  },
});
