import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { createTenant } from './support/tenants';
import { cloudEvent, eventually } from './support/http';
import { collectorUrl, gatewayUrl } from './support/ports';

const kafka = new Kafka({ clientId: 'e2e-tracing', brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:59092'], logLevel: logLevel.NOTHING });

/**
 * Collects the `traceparent` header of every message produced from now on, by event id. It
 * starts at the topic's current end, not its beginning, so the test does not slow down as the
 * persistent stack's topic grows.
 */
async function watchTopic(): Promise<{ consumer: Consumer; seen: Map<string, string> }> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(EVENTS_TOPIC).finally(() => admin.disconnect());
  const seen = new Map<string, string>();
  const consumer = kafka.consumer({ groupId: `e2e-tracing-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: EVENTS_TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const id = (JSON.parse(message.value?.toString() ?? '{}') as { event?: { id?: string } }).event?.id;
      if (id) seen.set(id, message.headers?.traceparent?.toString() ?? '');
    },
  });
  for (const { partition, offset } of ends) consumer.seek({ topic: EVENTS_TOPIC, partition, offset });
  return { consumer, seen };
}

const traceparent = (traceId: string) => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

describe('one trace from the caller to the broker', () => {
  let watcher: Awaited<ReturnType<typeof watchTopic>> | undefined;
  afterAll(() => watcher?.consumer.disconnect());

  it('carries the caller trace id through the collector and through gateway → Ingest gRPC', async () => {
    watcher = await watchTopic();
    const tenant = await createTenant();
    const viaCollector = { trace: randomBytes(16).toString('hex'), event: cloudEvent() };
    const viaGateway = { trace: randomBytes(16).toString('hex'), id: `gql-${randomUUID()}` };

    const posted = await fetch(`${collectorUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/cloudevents+json', traceparent: traceparent(viaCollector.trace) },
      body: JSON.stringify(viaCollector.event),
    });
    expect(posted.status).toBe(202);
    const recorded = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json', traceparent: traceparent(viaGateway.trace) },
      body: JSON.stringify({
        query: 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { accepted } }',
        variables: { input: { id: viaGateway.id, type: 'api.request', subject: 'acme' } },
      }),
    });
    expect(recorded.status).toBe(200);

    const seen = watcher.seen;
    const [a, b] = await eventually(async () => {
      const x = seen.get(viaCollector.event.id);
      const y = seen.get(viaGateway.id);
      return x !== undefined && y !== undefined ? [x, y] : undefined;
    }, 'both messages on the topic');
    expect(a.split('-')[1]).toBe(viaCollector.trace);
    expect(b.split('-')[1]).toBe(viaGateway.trace);
  });
});
