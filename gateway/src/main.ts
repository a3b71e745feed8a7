// First: SIGTERM/SIGINT are handled from here on, while the rest loads (shared/src/service/signals.ts).
import '@polaris/shared/signals';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHttpMetrics, inServerSpan, runService } from '@polaris/shared/service';
import { createInternalAuth } from '@polaris/shared/grpc';
import { billingAddress, loadGatewayConfig } from './config';
import { connectBackends } from './backends';
import { createGraphQLHandler } from './graphql/graphql-handler';
import { createGatewayAuth } from './auth/gateway-auth';

const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * The request body, read up to `limit` bytes: 'too_large' as soon as more arrive (the rest is left
 * unread; the answer closes the connection), 'aborted' when the client goes away first.
 */
/** How much of a refused body the gateway reads and drops so that the client sees its 413. */
const DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | 'too_large' | 'aborted') => {
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        done('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onAbort = () => done('aborted');
    req.on('data', onData).once('end', onEnd).once('error', onAbort).once('close', onAbort);
  });
}

await runService({
  name: 'gateway',
  loadConfig: loadGatewayConfig,
  build: async ({ config, logger, registry }) => {
    const backends = connectBackends(
      {
        identity: config.IDENTITY_GRPC_ADDR,
        usage: config.USAGE_GRPC_ADDR,
        ingest: config.INGEST_GRPC_ADDR,
        meters: config.METERS_GRPC_ADDR,
        billing: billingAddress(config),
      },
      createInternalAuth(config, 'gateway'),
    );
    // API keys and JWTs, and the per-organization request limit in Redis (gateway/src/auth/).
    const { auth, checks: authChecks, parts: authParts } = createGatewayAuth({
      config, identity: backends.identity, internalAuth: createInternalAuth(config, 'gateway'), logger, registry,
    });
    const yoga = createGraphQLHandler({
      auth,
      backends,
      deadlineMs: config.BACKEND_DEADLINE_MS,
      limits: { maxAliases: config.GRAPHQL_MAX_ALIASES, maxDepth: config.GRAPHQL_MAX_DEPTH, maxTokens: config.GRAPHQL_MAX_TOKENS, maxCost: config.GRAPHQL_MAX_COST },
      graphiql: config.GRAPHQL_GRAPHIQL,
      introspection: config.GRAPHQL_INTROSPECTION,
      logging: logger,
    });
    const observe = createHttpMetrics(registry);
    // Draining: every answer not yet sent says `Connection: close`, so each keep-alive connection
    // ends with its request. close() only ends the connections idle at that moment; a busy one would
    // go on serving its client, hold close() open past SHUTDOWN_TIMEOUT_MS, and the exit would be 1.
    let draining = false;
    const unanswered = new Set<ServerResponse>();
    // A client that sends its headers or body too slowly (or not at all) is cut off: 408, then closed.
    // Node checks those deadlines only every connectionsCheckingInterval (30 s by default).
    const server = createServer(
      {
        requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
        headersTimeout: Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS),
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        connectionsCheckingInterval: Math.min(1_000, config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS),
      },
      (req, res) => {
        if (draining) res.setHeader('connection', 'close');
        unanswered.add(res);
        res.once('close', () => unanswered.delete(res));
        const method = req.method ?? 'GET';
        observe(method, yoga.graphqlEndpoint, res);
        // Yoga buffers the whole body: refuse an oversized one before it is read when Content-Length
        // says so, and otherwise (chunked) as soon as the bytes read pass the limit.
        if (Number(req.headers['content-length'] ?? 0) > config.MAX_BODY_BYTES) {
          tooLarge(req, res);
          return;
        }
        void (async () => {
          if (method !== 'GET' && method !== 'HEAD') {
            const body = await readBody(req, config.MAX_BODY_BYTES);
            if (body === 'too_large') return tooLarge(req, res);
            if (body === 'aborted') return;
            // Yoga's node adapter takes a Buffer `body` as the request body instead of the stream.
            Object.assign(req, { body });
          }
          // Each request continues the caller's trace; the gRPC calls it makes join it.
          await inServerSpan(`${method} ${yoga.graphqlEndpoint}`, req.headers, async () => {
            await yoga(req, res);
          });
        })();
      },
    );
    /**
     * 413 at once, then the rest of the body is read and dropped (up to DISCARD_LIMIT_BYTES): a
     * socket closed while the client is still uploading is reset, and the client never reads the
     * 413 (e2e/gateway-fuzz: a 4 MB POST got "fetch failed"). A body declared or sent beyond that
     * is not read to its end: the connection is closed.
     */
    function tooLarge(req: IncomingMessage, res: ServerResponse): void {
      const discard = Number(req.headers['content-length'] ?? 0) <= DISCARD_LIMIT_BYTES;
      res.writeHead(413, { 'content-type': 'application/json', ...(discard ? {} : { connection: 'close' }) });
      res.end(JSON.stringify({ errors: [{ message: `the request body exceeds ${config.MAX_BODY_BYTES} bytes`, extensions: { code: 'BAD_USER_INPUT', reason: 'body_too_large', field: 'body' } }] }));
      if (!discard) return;
      let dropped = 0;
      req.on('data', (chunk: Buffer) => {
        dropped += chunk.length;
        if (dropped > DISCARD_LIMIT_BYTES) req.socket.destroy();
      });
      req.resume();
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
    });
    logger.info({ port: config.HTTP_PORT }, 'GraphQL listening on /graphql');

    return {
      // Identity is critical: without it no request can be authenticated, so a gateway that cannot
      // reach it is not ready. Usage, Ingest, Meters and billing are reported in the /readyz body
      // but do not fail readiness: an outage of one already fails only the GraphQL fields that need
      // it, with its own 503 reason (usage_unavailable, ingest_unavailable), and `me` and the other
      // fields keep working; taking every gateway pod out of the load balancer would turn that
      // partial outage into a total one.
      checks: [
        { name: 'identity', check: backends.health.identity },
        { name: 'usage', check: backends.health.usage, critical: false },
        { name: 'ingest', check: backends.health.ingest, critical: false },
        { name: 'meters', check: backends.health.meters, critical: false },
        { name: 'billing', check: backends.health.billing, critical: false },
        ...authChecks,
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
        ...authParts,
        { name: 'backends', stop: async () => backends.close() },
      ],
    };
  },
});
