import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { httpStatusOf, PolarisError } from '@polaris/shared/errors';
import { toClientError, type HttpRequestObserver, type Logger } from '@polaris/shared/service';
import { BATCH, SINGLE } from './cloudevents-binding';
import { answerClientError } from './client-error';
import { registerExactJsonBody } from './exact-json-body';

/** `application/<anything>+json`, with or without parameters. */
const JSON_SUFFIX = /^application\/[a-z0-9!#$&^_.-]+\+json(?:\s*;|$)/i;

/** An idle keep-alive connection is closed after this (Fastify's default is 72 s). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * The collector's public HTTP server: JSON bodies only, a hard body limit, and one error shape
 * for everything: `{ "error": { "code", "message", "field"? } }`.
 */
export function createHttpServer(opts: {
  logger: Logger;
  maxBodyBytes: number;
  observe: HttpRequestObserver;
  /** Longest a whole request (headers and body) may take to arrive; past it Node answers 408 and closes. */
  requestTimeoutMs: number;
  /** Longest the request headers may take to arrive (capped at requestTimeoutMs, as Node requires). */
  headersTimeoutMs: number;
}): FastifyInstance {
  const headersTimeout = Math.min(opts.headersTimeoutMs, opts.requestTimeoutMs);
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.maxBodyBytes,
    // Fastify's defaults (0) let a slow client hold a connection open forever.
    requestTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout: opts.requestTimeoutMs,
      headersTimeout,
      // How often Node checks those timeouts (default 30 s, which would dwarf a short timeout).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    // Request metrics cover every request; a log line each would be noise on the hottest path.
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify's own 503 while closing has no `error.code`; the onRequest hook below answers it.
    return503OnClosing: false,
    // What Node refuses before a request exists (timeouts, oversized or malformed headers) is
    // answered in the same JSON error shape as everything else.
    clientErrorHandler: answerClientError,
  });

  let closing = false;
  app.addHook('onRequest', async (request, reply) => {
    opts.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.raw);
    if (closing) {
      const err = new PolarisError('unavailable', 'shutting_down', 'the collector is shutting down; retry (another instance takes the request)');
      return reply.code(503).header('connection', 'close').send({ error: err.toJSON() });
    }
  });

  // Draining (close()): a request still in flight is answered with `Connection: close`, so its
  // keep-alive connection ends with it. Otherwise the connection idles on for keepAliveTimeout
  // (5 s), close() waits for it, and SIGTERM under load ends at the deadline with exit 1.
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  // Fastify parses text/plain by default; events are JSON only, so it must answer 415.
  app.removeContentTypeParser('text/plain');
  // One JSON parser for all accepted types: a "__proto__" key is refused rather than silently
  // dropped from `data`, and numbers keep their exact text. Binary-mode data may be any JSON
  // media type (`application/vnd.acme+json`), as `datacontenttype` allows.
  registerExactJsonBody(app, ['application/json', SINGLE, BATCH, JSON_SUFFIX]);

  app.setErrorHandler((err: FastifyError | PolarisError, request, reply) => {
    const perr = toPolarisError(err);
    // An outage's or a bug's message may name internals (a backend's address): the client gets the
    // code, a generic message and a request id; the log gets the detail under that id.
    const { body, masked } = toClientError(perr);
    if (masked) request.log[perr.kind === 'internal' ? 'error' : 'warn']({ err, code: perr.code, requestId: body.requestId }, 'request failed; the detail is withheld from the client');
    void reply.code(httpStatusOf(perr)).send({ error: body });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: `no route for ${request.method} ${request.url}` } });
  });

  return app;
}

function toPolarisError(err: FastifyError | PolarisError): PolarisError {
  if (err instanceof PolarisError) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PolarisError('payload_too_large', 'body_too_large', err.message, 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PolarisError(
        'unsupported_media_type',
        'unsupported_media_type',
        `send ${SINGLE}, ${BATCH} or application/json (with ce-* headers: binary mode)`,
        'content-type',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new PolarisError('invalid_argument', 'empty_body', 'the request body is empty', 'body');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new PolarisError('invalid_argument', 'invalid_content_length', err.message, 'content-length');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new PolarisError('invalid_argument', 'invalid_json', 'the request body is not valid JSON (or has a "__proto__" or "constructor.prototype" key)', 'body');
  }
  if (err.statusCode === 400) return new PolarisError('invalid_argument', 'invalid_json', 'the request body is not valid JSON', 'body');
  // Any other error Fastify attributes to the request stays a client error: a 500 means our fault.
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new PolarisError('invalid_argument', 'invalid_request', err.message);
  }
  return new PolarisError('internal', 'internal', 'internal error');
}
