import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { inServerSpan, runService, ApiKeyAuthenticator } from '@polaris/shared';
import { loadGatewayConfig } from './config';
import { connectBackends } from './backends';
import { typeDefs } from './graphql/schema';
import { resolvers } from './graphql/resolvers';
import { contextFactory, type GatewayContext } from './graphql/context';

await runService({
  name: 'gateway',
  loadConfig: loadGatewayConfig,
  build: async ({ config, logger }) => {
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

    return {
      // Ready when it can serve: a backend outage shows as a 503 on the field that needs it, not
      // as every gateway pod leaving the load balancer.
      checks: [],
      parts: [
        {
          name: 'http',
          stop: () =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        },
        { name: 'backends', stop: async () => backends.close() },
      ],
    };
  },
});
