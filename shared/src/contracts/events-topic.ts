import { z } from 'zod';
import { checkStorableEvent, MAX_EVENT_TIME_MS, type NormalizedEvent } from './cloudevent';
import { isWellFormedUnicode, NOT_WELL_FORMED } from './json-limits';

/**
 * The events topic contract, shared by every producer (collector HTTP, Ingest gRPC) and the
 * sink-worker. Bump the topic suffix for an incompatible change; add only optional fields
 * otherwise, so a rolling deploy never breaks messages in flight.
 */
export const EVENTS_TOPIC = 'polaris.events.v1';
export const EVENTS_DLQ_TOPIC = 'polaris.events.dlq.v1';

/**
 * The topic is a boundary (anything can be produced to it), so a message must pass the same
 * storability check as the collector's input: well-formed Unicode, `data` depth and size, event
 * time range. Field shapes are checked first; zod does not walk `data` (z.unknown values), and
 * checkStorableEvent walks it iteratively before anything recursive touches it. A failure reads
 * `event.<field>: <why>`, e.g. `event.data.foo: is not well-formed Unicode …`.
 */
export const eventMessageSchema = z.object({
  v: z.literal(1),
  /** Organization id, taken from the producer's credentials. */
  namespace: z.string().min(1).refine(isWellFormedUnicode, NOT_WELL_FORMED),
  /** When the collector accepted it, epoch ms. Stored as a ClickHouse DateTime too. */
  receivedAt: z.number().int().nonnegative().lt(MAX_EVENT_TIME_MS, 'must be before 2100'),
  event: z
    .object({
      id: z.string().min(1),
      source: z.string().min(1),
      type: z.string().min(1),
      subject: z.string().min(1),
      timeMs: z.number().int().nonnegative(),
      data: z.record(z.string(), z.unknown()),
    })
    .superRefine((event, ctx) => {
      const problem = checkStorableEvent(event);
      if (problem) ctx.addIssue({ code: 'custom', message: problem.reason, path: [problem.field] });
    }),
});
export type EventMessage = z.infer<typeof eventMessageSchema>;

/**
 * An event's identity, (namespace, source, id), as one string: the partition key below, and the
 * key the sink-worker compares with what ClickHouse already holds. One formula for both, so the
 * copies the broker groups are exactly the copies the sink drops. JSON, so no separator can be
 * forged from inside a part.
 */
export function eventIdentityKey(namespace: string, source: string, id: string): string {
  return JSON.stringify([namespace, source, id]);
}

/**
 * Partition key. Every copy of an event (same namespace, source and id) lands on the same
 * partition, so one consumer sees all of them in order: that is what makes the sink-worker's
 * "already stored?" check race-free.
 */
export function eventMessageKey(namespace: string, event: Pick<NormalizedEvent, 'source' | 'id'>): string {
  return eventIdentityKey(namespace, event.source, event.id);
}

export function encodeEventMessage(namespace: string, event: NormalizedEvent, receivedAt: number): Buffer {
  const message: EventMessage = { v: 1, namespace, receivedAt, event };
  return Buffer.from(JSON.stringify(message));
}
