import { createServer, type ServerResponse } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { createHttpMetrics, inServerSpan, runService } from '@polaris/shared/service';
import { ApiKeyAuthenticator } from '@polaris/shared/auth';
import { loadGatewayConfig } from './config';
import { connectBackends } from './backends';
import { typeDefs } from './graphql/generated/type-defs';
import { resolvers } from './graphql/resolvers';
import { contextFactory, type GatewayContext } from './graphql/context';

await runService({
  name: 'gateway',
  loadConfig: loadGatewayConfig,
  build: async ({ config, logger, registry }) => {
    const backends = connectBackends({ identity: config.IDENTITY_GRPC_ADDR, usage: config.USAGE_GRPC_ADDR, ingest: config.INGEST_GRPC_ADDR });
    const auth = new ApiKeyAuthenticator(backends.identity, config.API_KEY_CACHE_TTL_MS);
    const yoga = createYoga({
      schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
      context: contextFactory(auth, backends, config.BACKEND_DEADLINE_MS),
      graphiql: config.GRAPHIQL_ENABLED,
      logging: logger,
      landingPage: false,
    });
    const observe = createHttpMetrics(registry);
    // Draining: every answer not yet sent says `Connection: close`, so each keep-alive connection
    // ends with its request. close() only ends the connections idle at that moment; a busy one would
    // go on serving its client, hold close() open past SHUTDOWN_TIMEOUT_MS, and the exit would be 1.
    let draining = false;
    const unanswered = new Set<ServerResponse>();
    const server = createServer((req, res) => {
      if (draining) res.setHeader('connection', 'close');
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
      const method = req.method ?? 'GET';
      observe(method, yoga.graphqlEndpoint, res);
      // Yoga buffers the whole body: refuse an oversized one before it is read.
      if (Number(req.headers['content-length'] ?? 0) > config.MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ errors: [{ message: `the request body exceeds ${config.MAX_BODY_BYTES} bytes`, extensions: { code: 'body_too_large', field: 'body' } }] }));
        return;
      }
      // Each request continues the caller's trace; the gRPC calls it makes join it.
      void inServerSpan(`${method} ${yoga.graphqlEndpoint}`, req.headers, async () => {
        await yoga(req, res);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
    });
    logger.info({ port: config.HTTP_PORT }, 'GraphQL listening on /graphql');

    return {
      // Identity is critical: without it no request can be authenticated, so a gateway that cannot
      // reach it is not ready. Usage and Ingest are reported in the /readyz body but do not fail
      // readiness: an outage of either already fails only the GraphQL field that needs it, with its
      // own 503 code (usage_unavailable, ingest_unavailable), and `me` and the other field keep
      // working; taking every gateway pod out of the load balancer would turn that partial outage
      // into a total one.
      checks: [
        { name: 'identity', check: backends.health.identity },
        { name: 'usage', check: backends.health.usage, critical: false },
        { name: 'ingest', check: backends.health.ingest, critical: false },
      ],
      parts: [
        {
          name: 'http',
          stop: () =>
            new Promise<void>((resolve) => {
              draining = true;
              for (const res of unanswered) if (!res.headersSent) res.setHeader('connection', 'close');
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        },
        { name: 'backends', stop: async () => backends.close() },
      ],
    };
  },
});
