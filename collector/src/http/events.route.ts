import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PolarisError } from '@polaris/shared/errors';
import { normalizeCloudEvent, type NormalizedEvent } from '@polaris/shared/contracts';
import { inServerSpan } from '@polaris/shared/service';
import { bearerToken, type ApiKeyAuthenticator, type Principal } from '@polaris/shared/auth';
import type { EventPublisher } from '../publish/event-publisher';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller of POST /v1/events, set by its preParsing hook before the body is read. */
    principal: Principal | null;
  }
}

export const SINGLE = 'application/cloudevents+json';
export const BATCH = 'application/cloudevents-batch+json';

/** One event (structured mode) or a JSON array (batched mode); application/json may be either. */
function eventsOf(contentType: string | undefined, body: unknown, maxEvents: number, now: number): NormalizedEvent[] {
  if (contentType !== BATCH && !(contentType === 'application/json' && Array.isArray(body))) {
    return [normalizeCloudEvent(body, now)];
  }
  if (!Array.isArray(body)) throw new PolarisError('invalid_argument', 'invalid_batch', 'a batch must be a JSON array of CloudEvents', 'body');
  if (body.length === 0) throw new PolarisError('invalid_argument', 'empty_batch', 'the batch has no events', 'body');
  if (body.length > maxEvents) {
    throw new PolarisError('payload_too_large', 'batch_too_large', `at most ${maxEvents} events per request`, 'body');
  }
  return body.map((item, i) => normalizeCloudEvent(item, now, `[${i}].`));
}

/**
 * POST /v1/events. 202 means every event in the request is durable in the broker; a request is
 * all-or-nothing, so a client retries the whole request on failure.
 */
export function registerEventsRoute(
  app: FastifyInstance,
  deps: { auth: ApiKeyAuthenticator; publisher: EventPublisher; maxEventsPerRequest: number },
): void {
  app.decorateRequest('principal', null);
  // The key is checked before the body is read: a caller without a valid key learns that (401/403),
  // never something about its body, and costs us no parsing.
  // A span of its own, in the caller's trace, so the Identity call it may make stays traced.
  const authenticate = (request: FastifyRequest) =>
    inServerSpan('POST /v1/events authenticate', request.headers, async () => {
      request.principal = await deps.auth.authenticate(bearerToken(request.headers.authorization), 'events:write');
    });
  app.post('/v1/events', { preParsing: authenticate }, (request, reply) =>
    inServerSpan('POST /v1/events', request.headers, async (span) => {
      const principal = request.principal;
      if (!principal) throw new PolarisError('internal', 'internal', 'request not authenticated');
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const now = Date.now();
      const events = eventsOf(contentType, request.body, deps.maxEventsPerRequest, now);
      span.setAttribute('polaris.events', events.length);
      await deps.publisher.publish(principal.organizationId, events, now);
      return reply.code(202).send({ accepted: events.length });
    }),
  );
}
