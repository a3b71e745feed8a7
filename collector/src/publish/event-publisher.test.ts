import { describe, expect, it } from 'vitest';
import { CompressionTypes, KafkaJSProtocolError, type Kafka, type ProducerRecord } from 'kafkajs';
import { Registry } from 'prom-client';
import { encodeEventMessage, type NormalizedEvent } from '@polaris/shared/contracts';
import { createLogger } from '@polaris/shared/service';
import { EventPublisher, type PublisherOptions } from './event-publisher';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const event = (id: string): NormalizedEvent => ({ id, source: 'svc', type: 'api.request', subject: 'cust-1', timeMs: 0, data: {} });

/** A broker that acknowledges each send only when the test says so, and records what was sent. */
function fakeBroker() {
  const sends: Array<{ ids: string[]; compression: ProducerRecord['compression']; ack: () => void }> = [];
  let sent: () => void = () => undefined;
  const producer = {
    on: () => undefined,
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: (record: ProducerRecord) =>
      new Promise<void>((resolve) => {
        const ids = record.messages.map((m) => (JSON.parse(String(m.value)) as { event: { id: string } }).event.id);
        sends.push({ ids, compression: record.compression, ack: () => resolve() });
        sent();
      }),
  };
  return {
    kafka: { producer: () => producer } as unknown as Kafka,
    sends,
    /** Resolves once `n` sends have been made in total. */
    sendsReach: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (sends.length >= n ? resolve() : (sent = check));
        check();
      }),
  };
}

// A linger far past the test timeout: a publisher that waited it out would fail the test.
const publisherOn = (kafka: Kafka, maxBatch = 1_000) =>
  new EventPublisher(kafka, { topic: 't', lingerMs: 60_000, maxBatch, timeoutMs: 60_000 }, createLogger('test', 'silent'), new Registry());

describe('EventPublisher batching', () => {
  it('sends at once when nothing is in flight, without waiting for the linger', async () => {
    const broker = fakeBroker();
    const publisher = publisherOn(broker.kafka);
    const published = publisher.publish(ns, [event('a')], 0);
    await broker.sendsReach(1);
    broker.sends[0]?.ack();
    await published;
    expect(broker.sends.map((s) => s.ids)).toEqual([['a']]);
  });

  it('gathers what arrives while a send is in flight and sends it when that one is acknowledged', async () => {
    const broker = fakeBroker();
    const publisher = publisherOn(broker.kafka);
    const first = publisher.publish(ns, [event('a')], 0);
    await broker.sendsReach(1);
    const later = [publisher.publish(ns, [event('b')], 0), publisher.publish(ns, [event('c'), event('d')], 0)];
    broker.sends[0]?.ack();
    await first;
    await broker.sendsReach(2);
    broker.sends[1]?.ack();
    await Promise.all(later);
    expect(broker.sends.map((s) => s.ids)).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('does not wait for the send in flight once a full batch has gathered', async () => {
    const broker = fakeBroker();
    const publisher = publisherOn(broker.kafka, 2);
    const first = publisher.publish(ns, [event('a')], 0);
    await broker.sendsReach(1);
    const full = publisher.publish(ns, [event('b'), event('c')], 0);
    await broker.sendsReach(2);
    for (const s of broker.sends) s.ack();
    await Promise.all([first, full]);
    expect(broker.sends.map((s) => s.ids)).toEqual([['a'], ['b', 'c']]);
  });
});

describe('EventPublisher compression', () => {
  it('sends uncompressed unless told gzip', async () => {
    for (const [compression, codec] of [[undefined, CompressionTypes.None], ['gzip', CompressionTypes.GZIP]] as const) {
      const broker = fakeBroker();
      const publisher = new EventPublisher(broker.kafka, { topic: 't', lingerMs: 0, maxBatch: 10, timeoutMs: 60_000, compression }, createLogger('test', 'silent'), new Registry());
      const published = publisher.publish(ns, [event('a')], 0);
      await broker.sendsReach(1);
      broker.sends[0]?.ack();
      await published;
      expect(broker.sends[0]?.compression).toBe(codec);
    }
  });
});

describe('EventPublisher backpressure', () => {
  it('counts events being sent, not only gathered ones: a stuck broker cannot grow memory without bound', async () => {
    const broker = fakeBroker();
    // A short linger: while a send hangs, gathered events leave the queue for new sends every 5 ms.
    const publisher = new EventPublisher(broker.kafka, { topic: 't', lingerMs: 5, maxBatch: 1_000, maxQueued: 2, timeoutMs: 60_000 }, createLogger('test', 'silent'), new Registry());
    const first = publisher.publish(ns, [event('a')], 0);
    await broker.sendsReach(1);
    const second = publisher.publish(ns, [event('b')], 0);
    await broker.sendsReach(2); // gathered, then sent after the linger: both sends hang
    await expect(publisher.publish(ns, [event('c')], 0)).rejects.toMatchObject({ code: 'overloaded' });
    for (const s of broker.sends) s.ack();
    await Promise.all([first, second]);
    // Room again once the broker has acknowledged.
    const third = publisher.publish(ns, [event('d')], 0);
    await broker.sendsReach(3);
    broker.sends[2]?.ack();
    await third;
  });
});

/**
 * A broker that answers at once: it refuses, as Kafka does (MESSAGE_TOO_LARGE), a produce request
 * whose values exceed `limitBytes`, and otherwise stores its messages.
 */
function sizeLimitedBroker(limitBytes: number) {
  const stored: string[] = [];
  const sends: Array<{ ids: string[]; bytes: number; refused: boolean }> = [];
  const producer = {
    on: () => undefined,
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: async (record: ProducerRecord) => {
      const ids = record.messages.map((m) => (JSON.parse(String(m.value)) as { event: { id: string } }).event.id);
      const bytes = record.messages.reduce((sum, m) => sum + (m.value as Buffer).length, 0);
      const refused = bytes > limitBytes;
      sends.push({ ids, bytes, refused });
      if (refused) {
        // As kafkajs builds it from the broker's error code 10 (its types declare only `message`).
        const tooLarge = { type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'The request included a message larger than the max message size the server will accept' };
        throw new KafkaJSProtocolError(tooLarge as unknown as Error);
      }
      stored.push(...ids);
    },
  };
  return { kafka: { producer: () => producer } as unknown as Kafka, stored, sends };
}

/** An event whose encoded message is about `bytes` long. */
const sized = (id: string, bytes: number): NormalizedEvent => ({ ...event(id), data: { pad: 'x'.repeat(bytes) } });

describe('EventPublisher sizes produce requests by encoded bytes', () => {
  const publisherWith = (kafka: Kafka, opts: Partial<PublisherOptions>) =>
    new EventPublisher(kafka, { topic: 't', lingerMs: 60_000, maxBatch: 1_000, timeoutMs: 60_000, ...opts }, createLogger('test', 'silent'), new Registry());

  it('cuts a batch of requests into produce requests under maxBatchBytes, each event sent once', async () => {
    const broker = sizeLimitedBroker(10_000);
    const publisher = publisherWith(broker.kafka, { maxBatchBytes: 10_000 });
    const requests = ['a', 'b', 'c'].map((r) => publisher.publish(ns, Array.from({ length: 4 }, (_, i) => sized(`${r}${i}`, 1_500)), 0));
    await Promise.all(requests);
    expect(broker.sends.every((s) => !s.refused)).toBe(true);
    expect(broker.sends.length).toBeGreaterThan(1);
    expect(broker.stored.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3', 'c0', 'c1', 'c2', 'c3']);
  });

  it('refuses a request whose encoded messages exceed maxRequestBytes with 413 naming the limit, sending nothing', async () => {
    const broker = sizeLimitedBroker(1_000_000);
    const publisher = publisherWith(broker.kafka, { maxRequestBytes: 5_000 });
    await expect(publisher.publish(ns, [sized('a', 3_000), sized('b', 3_000)], 0)).rejects.toMatchObject({
      kind: 'payload_too_large',
      code: 'encoded_too_large',
      message: expect.stringMatching(/MAX_ENCODED_BYTES_PER_REQUEST/),
    });
    expect(broker.sends).toEqual([]);
  });

  it('refuses an event larger than maxBatchBytes alone with 413 event_too_large, sending nothing of its request', async () => {
    const broker = sizeLimitedBroker(1_000_000);
    const publisher = publisherWith(broker.kafka, { maxBatchBytes: 5_000 });
    await expect(publisher.publish(ns, [sized('ok', 100), sized('big', 6_000)], 0)).rejects.toMatchObject({ kind: 'payload_too_large', code: 'event_too_large', field: '[1].data' });
    expect(broker.sends).toEqual([]);
  });

  it('when the broker refuses a batch as too large, splits and retries it: every request in it is accepted once', async () => {
    // The publisher believes the broker takes 100 kB; it takes 10 kB.
    const broker = sizeLimitedBroker(10_000);
    const publisher = publisherWith(broker.kafka, { maxBatchBytes: 100_000 });
    const big = publisher.publish(ns, Array.from({ length: 20 }, (_, i) => sized(`big${i}`, 2_000)), 0);
    const small = publisher.publish(ns, [sized('other', 100)], 0);
    await Promise.all([big, small]);
    expect(broker.sends.some((s) => s.refused)).toBe(true);
    expect(broker.stored.sort()).toEqual([...Array.from({ length: 20 }, (_, i) => `big${i}`), 'other'].sort());
  });

  it('a single message the broker refuses fails only its own request, with 413', async () => {
    const broker = sizeLimitedBroker(5_000);
    const publisher = publisherWith(broker.kafka, { maxBatchBytes: 100_000 });
    const tooBig = sized('huge', 6_000);
    const results = await Promise.allSettled([
      publisher.publish(ns, [sized('a', 100), sized('b', 100)], 0),
      publisher.publish(ns, [sized('c', 100), tooBig], 0),
      publisher.publish(ns, [sized('d', 100)], 0),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ kind: 'payload_too_large', code: 'event_too_large', field: '[1].data' });
    // Its size as the broker sees it: the encoded value and more (key, record overhead).
    const said = Number(/encodes to (\d+) bytes/.exec((results[1] as PromiseRejectedResult).reason.message)?.[1]);
    expect(said).toBeGreaterThan(encodeEventMessage(ns, tooBig, 0).length);
    expect(broker.stored.sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});
