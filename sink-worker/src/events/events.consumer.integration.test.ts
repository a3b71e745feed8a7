import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createLogger, createMetricsRegistry, encodeEventMessage, eventMessageKey, type NormalizedEvent } from '@polaris/shared';
import { eventually } from '@polaris/shared/testing';
import { EventsConsumer } from './events.consumer';
import { EventsRawWriter } from './events-raw.writer';
import { throwawayClickHouse, type ThrowawayClickHouse } from '../test-support/throwaway-clickhouse';
import { TEST_KAFKA_BROKERS } from '../test-support/env';

const kafka = new Kafka({ clientId: 'it-sink', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const logger = createLogger('it-sink', 'silent');
const ns = randomUUID();

function event(i: number): NormalizedEvent {
  return { id: `e-${i}`, source: 'it', type: 'api.request', subject: `s-${i % 3}`, timeMs: Date.UTC(2026, 5, 1, 0, 0, i), data: { n: i } };
}

async function physicalRows(db: ThrowawayClickHouse): Promise<number> {
  const rs = await db.client.query({ query: 'SELECT count() AS n FROM events_raw', format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

async function caughtUp(admin: Admin, groupId: string, topic: string): Promise<true | undefined> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const done = ends.every((end) => {
    const c = committed?.partitions.find((p) => p.partition === end.partition);
    return c !== undefined && c.offset !== '-1' && BigInt(c.offset) >= BigInt(end.high);
  });
  return done || ends.every((e) => e.high === '0') ? true : undefined;
}

describe('EventsConsumer against Kafka and ClickHouse', () => {
  const topic = `it.events.${randomUUID()}`;
  const dlqTopic = `it.events.dlq.${randomUUID()}`;
  const groupId = `it-sink-${randomUUID()}`;
  const admin = kafka.admin();
  const producer = kafka.producer();
  let db: ThrowawayClickHouse;

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }, { topic: dlqTopic, numPartitions: 1 }], waitForLeaders: true });
    // Starts without tables: the first store attempts fail until the "outage" ends.
    db = await throwawayClickHouse({ migrated: false });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
    await db?.drop();
  });

  const consumerFor = (registry = createMetricsRegistry('it')) => ({
    registry,
    consumer: new EventsConsumer(kafka, new EventsRawWriter(db.client), { groupId, topic, dlqTopic }, logger, registry),
  });

  it('retries through a store outage, stores each event once, dead-letters garbage, and replays as a no-op', async () => {
    const events = Array.from({ length: 40 }, (_, i) => event(i));
    const copies = [...events, ...events.slice(0, 10)]; // ten client retries
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...copies.map((ev) => ({ key: eventMessageKey(ns, ev), value: encodeEventMessage(ns, ev, Date.UTC(2026, 5, 1)) })),
        { key: 'garbage', value: Buffer.from('{"v":1,"namespace":') },
      ],
    });

    const first = consumerFor();
    await first.consumer.start();
    // The store is down (no tables yet): the consumer must keep retrying, not skip or commit.
    await eventually(async () => {
      const errors = (await first.registry.getSingleMetric('sink_store_errors_total')?.get())?.values[0]?.value ?? 0;
      return errors > 0 ? true : undefined;
    }, 'failed store attempts');
    const [stuck] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(stuck?.partitions.every((p) => p.offset === '-1')).toBe(true);

    await db.migrate(); // the store comes back
    await eventually(() => caughtUp(admin, groupId, topic), 'the consumer to commit everything');
    expect(await physicalRows(db)).toBe(40);
    await first.consumer.stop();

    // The garbage message went to the DLQ with its original bytes and the reason.
    const dlqEnds = await admin.fetchTopicOffsets(dlqTopic);
    expect(dlqEnds.reduce((n, p) => n + Number(p.high), 0)).toBe(1);

    // Replay everything, as after a crash between insert and commit: nothing may change.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    const second = consumerFor();
    await second.consumer.start();
    await eventually(() => caughtUp(admin, groupId, topic), 'the replay to finish');
    await second.consumer.stop();
    expect(await physicalRows(db)).toBe(40);
    const dropped = await second.registry.getSingleMetric('sink_duplicates_dropped_total')?.get();
    expect(dropped?.values.reduce((n, v) => n + v.value, 0)).toBe(50);
  });
});
