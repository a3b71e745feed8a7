import { PolarisError } from '@polaris/shared/errors';
import { MAX_DATA_DEPTH, normalizeCloudEvent, requireOrganizationId, type EventTimeWindow } from '@polaris/shared/contracts';
import { type UnaryWrapper, type GrpcServiceBinding } from '@polaris/shared/grpc';
import { IngestService, type PublishRequest, type PublishResponse } from '@polaris/proto';
import type { EventPublisher } from '../publish/event-publisher';

/**
 * `data` is a google.protobuf.Struct, which ts-proto refuses to decode past object depth 32 (see
 * MAX_DATA_DEPTH): such a request never reaches the handler, so the server answers this instead.
 */
const DATA_TOO_DEEP = new PolarisError(
  'invalid_argument',
  'invalid_event',
  `events[].data: must be nested at most ${MAX_DATA_DEPTH} levels deep (data itself is level 1; each object or array inside adds one)`,
  'events[].data',
);

/**
 * polaris.v1.Ingest for internal callers (the gateway) that have already authenticated the org.
 * Events go through the same validation and the same publisher as the HTTP path.
 */
export function ingestService(
  publisher: EventPublisher,
  unary: UnaryWrapper,
  maxEventsPerRequest: number,
  timeWindow: EventTimeWindow,
): GrpcServiceBinding {
  return {
    name: 'polaris.v1.Ingest',
    definition: IngestService,
    access: { publish: { callers: ['gateway'], organization: 'request' } },
    tooDeep: DATA_TOO_DEEP,
    implementation: {
      publish: unary<PublishRequest, PublishResponse>('polaris.v1.Ingest/Publish', async (req) => {
        requireOrganizationId(req.organizationId);
        if (req.events.length === 0) throw new PolarisError('invalid_argument', 'empty_batch', 'no events to publish', 'events');
        if (req.events.length > maxEventsPerRequest) {
          throw new PolarisError('payload_too_large', 'batch_too_large', `at most ${maxEventsPerRequest} events per call`, 'events');
        }
        const now = Date.now();
        const events = req.events.map((ev, i) => {
          const path = `events[${i}].`;
          // A Timestamp beyond what Date holds decodes to an Invalid Date, whose toISOString throws.
          if (ev.time && Number.isNaN(ev.time.getTime())) {
            throw new PolarisError('invalid_argument', 'invalid_event', `${path}time: must be between 1970 and 2100`, `${path}time`);
          }
          return normalizeCloudEvent(
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
            path,
            timeWindow,
          );
        });
        await publisher.publish(req.organizationId, events, now);
        return { accepted: events.length };
      }),
    },
  };
}
