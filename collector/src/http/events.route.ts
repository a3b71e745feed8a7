import type { FastifyInstance } from 'fastify';
import { PolarisError } from '@polaris/shared/errors';
import { normalizeCloudEvent, type NormalizedEvent } from '@polaris/shared/contracts';
import { inServerSpan } from '@polaris/shared/service';
import { bearerToken, type ApiKeyAuthenticator } from '@polaris/shared/auth';
import type { EventPublisher } from '../publish/event-publisher';

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
  app.post('/v1/events', (request, reply) =>
    inServerSpan('POST /v1/events', request.headers, async (span) => {
      const principal = await deps.auth.authenticate(bearerToken(request.headers.authorization), 'events:write');
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const now = Date.now();
      const events = eventsOf(contentType, request.body, deps.maxEventsPerRequest, now);
      span.setAttribute('polaris.events', events.length);
      await deps.publisher.publish(principal.organizationId, events, now);
      return reply.code(202).send({ accepted: events.length });
    }),
  );
}
