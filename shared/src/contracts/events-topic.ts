import { z } from 'zod';
import type { NormalizedEvent } from './cloudevent';

/**
 * The events topic contract, shared by every producer (collector HTTP, Ingest gRPC) and the
 * sink-worker. Bump the topic suffix for an incompatible change; add only optional fields
 * otherwise, so a rolling deploy never breaks messages in flight.
 */
export const EVENTS_TOPIC = 'polaris.events.v1';
export const EVENTS_DLQ_TOPIC = 'polaris.events.dlq.v1';

export const eventMessageSchema = z.object({
  v: z.literal(1),
  /** Organization id, taken from the producer's credentials. */
  namespace: z.string().min(1),
  /** When the collector accepted it, epoch ms. */
  receivedAt: z.number().int().nonnegative(),
  event: z.object({
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1),
    timeMs: z.number().int().nonnegative(),
    data: z.record(z.string(), z.unknown()),
  }),
});
export type EventMessage = z.infer<typeof eventMessageSchema>;

/**
 * Partition key. Every copy of an event (same namespace, source and id) lands on the same
 * partition, so one consumer sees all of them in order: that is what makes the sink-worker's
 * "already stored?" check race-free.
 */
export function eventMessageKey(namespace: string, event: Pick<NormalizedEvent, 'source' | 'id'>): string {
  return JSON.stringify([namespace, event.source, event.id]);
}

export function encodeEventMessage(namespace: string, event: NormalizedEvent, receivedAt: number): Buffer {
  const message: EventMessage = { v: 1, namespace, receivedAt, event };
  return Buffer.from(JSON.stringify(message));
}
