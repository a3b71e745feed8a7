import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PolarisError } from '@polaris/shared/errors';
import { normalizeCloudEvent, type EventTimeWindow, type NormalizedEvent } from '@polaris/shared/contracts';
import { inServerSpan } from '@polaris/shared/service';
import { presentedApiKey, type ApiKeyAuthenticator, type Principal } from '@polaris/shared/auth';
import type { EventPublisher } from '../publish/event-publisher';
import { EventRateLimitExceeded, type EventRateLimiter } from '../rate-limit/event-rate-limiter';
import {
  bindingMode, binaryModeEvent, binaryModeField, ceHeadersOf, checkStructuredHeaders, mediaTypeOf, refuseBatchHeaders, type CeHeader,
} from './cloudevents-binding';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller of POST /v1/events, set by its preParsing hook before the body is read. */
    principal: Principal | null;
  }
}

export interface EventsRouteDeps {
  auth: ApiKeyAuthenticator;
  publisher: Pick<EventPublisher, 'publish'>;
  rateLimiter: Pick<EventRateLimiter, 'consume' | 'refund'>;
  maxEventsPerRequest: number;
  timeWindow: EventTimeWindow;
}

/** A binary-mode refusal names the header (or Content-Type) the attribute came from. */
function asBinaryModeError(err: unknown): unknown {
  if (!(err instanceof PolarisError) || err.code !== 'invalid_event' || !err.field) return err;
  const field = binaryModeField(err.field);
  const message = err.message.startsWith(`${err.field}:`) ? `${field}${err.message.slice(err.field.length)}` : err.message;
  return new PolarisError(err.kind, err.code, message, field);
}

function batchOf(body: unknown, maxEvents: number, now: number, window: EventTimeWindow): NormalizedEvent[] {
  if (!Array.isArray(body)) throw new PolarisError('invalid_argument', 'invalid_batch', 'a batch must be a JSON array of CloudEvents', 'body');
  if (body.length === 0) throw new PolarisError('invalid_argument', 'empty_batch', 'the batch has no events', 'body');
  if (body.length > maxEvents) {
    throw new PolarisError('payload_too_large', 'batch_too_large', `at most ${maxEvents} events per request`, 'body');
  }
  return body.map((item, i) => normalizeCloudEvent(item, now, `[${i}].`, window));
}

/** The events of a request, in whichever mode of the CloudEvents HTTP binding it came. */
function eventsOf(request: FastifyRequest, ceHeaders: CeHeader[], deps: EventsRouteDeps, now: number): NormalizedEvent[] {
  const contentType = request.headers['content-type'];
  const body = request.body;
  switch (bindingMode(mediaTypeOf(contentType), ceHeaders)) {
    case 'batched':
      refuseBatchHeaders(ceHeaders);
      return batchOf(body, deps.maxEventsPerRequest, now, deps.timeWindow);
    case 'structured':
      checkStructuredHeaders(ceHeaders, body);
      return [normalizeCloudEvent(body, now, '', deps.timeWindow)];
    case 'binary':
      try {
        return [normalizeCloudEvent(binaryModeEvent(ceHeaders, contentType, body), now, '', deps.timeWindow)];
      } catch (err) {
        throw asBinaryModeError(err);
      }
    case 'json':
      return Array.isArray(body) ? batchOf(body, deps.maxEventsPerRequest, now, deps.timeWindow) : [normalizeCloudEvent(body, now, '', deps.timeWindow)];
  }
}

/**
 * POST /v1/events. 202 means every event in the request is durable in the broker; a request is
 * all-or-nothing, so a client retries the whole request on failure. The events count against the
 * organization's rate limit once they are valid, before they are published.
 */
export function registerEventsRoute(app: FastifyInstance, deps: EventsRouteDeps): void {
  app.decorateRequest('principal', null);
  // The key is checked before the body is read: a caller without a valid key learns that (401/403),
  // never something about its body, and costs us no parsing.
  // A span of its own, in the caller's trace, so the Identity call it may make stays traced.
  const authenticate = (request: FastifyRequest) =>
    inServerSpan('POST /v1/events authenticate', request.headers, async () => {
      const header = request.headers['x-api-key'];
      const apiKey = presentedApiKey({ authorization: request.headers.authorization, 'x-api-key': Array.isArray(header) ? header.join(', ') : header });
      request.principal = await deps.auth.authenticate(apiKey, 'events:write');
    });
  app.post('/v1/events', { preParsing: authenticate }, (request, reply) =>
    inServerSpan('POST /v1/events', request.headers, async (span) => {
      const principal = request.principal;
      if (!principal) throw new PolarisError('internal', 'internal', 'request not authenticated');
      const now = Date.now();
      const events = eventsOf(request, ceHeadersOf(request.raw.rawHeaders), deps, now);
      span.setAttribute('polaris.events', events.length);
      const org = principal.organizationId;
      try {
        const limits = await deps.rateLimiter.consume(org, events.length, principal.eventRateLimit);
        if (limits) void reply.headers(limits);
      } catch (err) {
        if (err instanceof EventRateLimitExceeded) void reply.headers(err.headers);
        throw err;
      }
      try {
        await deps.publisher.publish(org, events, now);
      } catch (err) {
        // Not taken: the retry should not pay for these events twice.
        await deps.rateLimiter.refund(org, events.length, principal.eventRateLimit);
        throw err;
      }
      return reply.code(202).send({ accepted: events.length });
    }),
  );
}
