import type { FastifyInstance } from 'fastify';

import { bearerToken, normalizeCloudEvent, PolarisError, type ApiKeyAuthenticator, type NormalizedEvent } from '@polaris/shared';
import type { EventPublisher } from '../publish/event-publisher';

export const SINGLE = 'application/cloudevents+json';
export const BATCH = 'application/cloudevents-batch+json';

/**
 * POST /v1/events — CloudEvents structured mode (one event) or batched mode (a JSON array).
 * `application/json` is accepted as either. 202 means every event in the request is durable in
 * the broker; a request is all-or-nothing, so a client retries the whole request on failure.
 */
export function registerEventsRoute(
  app: FastifyInstance,
  deps: { auth: ApiKeyAuthenticator; publisher: EventPublisher; maxEventsPerRequest: number },
): void {
  app.post('/v1/events', async (request, reply) => {
    const principal = await deps.auth.authenticate(bearerToken(request.headers.authorization), 'events:write');
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const body: unknown = request.body;
    const now = Date.now();

    let events: NormalizedEvent[];
    if (contentType === BATCH || (contentType === 'application/json' && Array.isArray(body))) {
      if (!Array.isArray(body)) throw new PolarisError('invalid_argument', 'invalid_batch', 'a batch must be a JSON array of CloudEvents', 'body');
      if (body.length === 0) throw new PolarisError('invalid_argument', 'empty_batch', 'the batch has no events', 'body');
      if (body.length > deps.maxEventsPerRequest) {
        throw new PolarisError('payload_too_large', 'batch_too_large', `at most ${deps.maxEventsPerRequest} events per request`, 'body');
      }
      events = body.map((item, i) => normalizeCloudEvent(item, now, `[${i}].`));
    } else {
      events = [normalizeCloudEvent(body, now)];
    }

    await deps.publisher.publish(principal.organizationId, events, now);
    return reply.code(202).send({ accepted: events.length });
  });
}
