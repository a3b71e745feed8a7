import { normalizeCloudEvent, PolarisError, type UnaryWrapper, type GrpcServiceBinding, requireOrganizationId } from '@polaris/shared';
import { IngestService, type PublishRequest, type PublishResponse } from '@polaris/proto';
import type { EventPublisher } from '../publish/event-publisher';


/**
 * polaris.v1.Ingest for internal callers (the gateway) that have already authenticated the org.
 * Events go through the same validation and the same publisher as the HTTP path.
 */
export function ingestService(
  publisher: EventPublisher,
  unary: UnaryWrapper,
  maxEventsPerRequest: number,
): GrpcServiceBinding {
  return {
    name: 'polaris.v1.Ingest',
    definition: IngestService,
    implementation: {
      publish: unary<PublishRequest, PublishResponse>('polaris.v1.Ingest/Publish', async (req) => {
        requireOrganizationId(req.organizationId);
        if (req.events.length === 0) throw new PolarisError('invalid_argument', 'empty_batch', 'no events to publish', 'events');
        if (req.events.length > maxEventsPerRequest) {
          throw new PolarisError('payload_too_large', 'batch_too_large', `at most ${maxEventsPerRequest} events per call`, 'events');
        }
        const now = Date.now();
        const events = req.events.map((ev, i) =>
          normalizeCloudEvent(
            {
              specversion: '1.0',
              id: ev.id,
              source: ev.source,
              type: ev.type,
              subject: ev.subject,
              ...(ev.time ? { time: ev.time.toISOString() } : {}),
              ...(ev.data ? { data: ev.data } : {}),
            },
            now,
            `events[${i}].`,
          ),
        );
        await publisher.publish(req.organizationId, events, now);
        return { accepted: events.length };
      }),
    },
  };
}
