import { describe, expect, it } from 'vitest';
import type { Kafka, ProducerRecord } from 'kafkajs';
import { Registry } from 'prom-client';
import { type NormalizedEvent } from '@polaris/shared/contracts';
import { createLogger } from '@polaris/shared/service';
import { EventPublisher } from './event-publisher';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const event = (id: string): NormalizedEvent => ({ id, source: 'svc', type: 'api.request', subject: 'cust-1', timeMs: 0, data: {} });

/** A broker that acknowledges each send only when the test says so, and records what was sent. */
function fakeBroker() {
  const sends: Array<{ ids: string[]; ack: () => void }> = [];
  let sent: () => void = () => undefined;
  const producer = {
    on: () => undefined,
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: (record: ProducerRecord) =>
      new Promise<void>((resolve) => {
        const ids = record.messages.map((m) => (JSON.parse(String(m.value)) as { event: { id: string } }).event.id);
        sends.push({ ids, ack: () => resolve() });
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
