import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { eventsRawWriter } from '@polaris/clickhouse';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { DEAD_LETTER_HEADERS, encodeEventMessage, eventMessageKey, type NormalizedEvent } from '@polaris/shared/contracts';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { eventually } from '@polaris/shared/testing';
import { EventsConsumer } from './events.consumer';
import { TEST_KAFKA_BROKERS } from '../test-support/env';
import { headerText, readTopic } from '../test-support/read-topic';

const kafka = new Kafka({ clientId: 'it-sink', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const logger = createLogger('it-sink', 'silent');
const ns = randomUUID();

function event(i: number): NormalizedEvent {
  return { id: `e-${i}`, source: 'it', type: 'api.request', subject: `s-${i % 3}`, timeMs: Date.UTC(2026, 5, 1, 0, 0, i), data: { n: i } };
}

async function physicalRows(db: ThrowawayDatabase): Promise<number> {
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
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }, { topic: dlqTopic, numPartitions: 1 }], waitForLeaders: true });
    // Starts without tables: the first store attempts fail until the "outage" ends.
    db = await throwawayDatabase({ migrated: false });
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
    await db?.drop();
  });

  const consumerFor = (registry = createMetricsRegistry('it'), stallTimeoutMs?: number) => ({
    registry,
    consumer: new EventsConsumer(kafka, eventsRawWriter(db.client), { groupId, topic, dlqTopic, stallTimeoutMs }, logger, registry),
  });

  it('retries through a store outage, stores each event once, dead-letters garbage, and replays as a no-op', async () => {
    const events = Array.from({ length: 40 }, (_, i) => event(i));
    const copies = [...events, ...events.slice(0, 10)]; // ten client retries
    const garbage = Buffer.from('{"v":1,"namespace":');
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...copies.map((ev) => ({ key: eventMessageKey(ns, ev), value: encodeEventMessage(ns, ev, Date.UTC(2026, 5, 1)) })),
        { key: 'garbage', value: garbage, headers: { 'x-origin': 'it' } },
      ],
    });
    // A short stall timeout: stuck on the outage, the consumer must say so in its readiness.
    const first = consumerFor(createMetricsRegistry('it'), 1_000);
    await first.consumer.start();
    // The store is down (no tables yet): the consumer must keep retrying, not skip or commit.
    await eventually(async () => {
      const errors = (await first.registry.getSingleMetric('sink_store_errors_total')?.get())?.values[0]?.value ?? 0;
      return errors > 0 ? true : undefined;
    }, 'failed store attempts');
    const [stuck] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(stuck?.partitions.every((p) => p.offset === '-1')).toBe(true);
    const stall = await eventually(async () => {
      try {
        first.consumer.health();
        return undefined;
      } catch (err) {
        return (err as Error).message.includes('stalled') ? (err as Error).message : undefined;
      }
    }, 'readiness to report the stall');
    expect(stall).toMatch(/^consumer stalled \(no progress for more than 1 s\): partition \d: \d+ message\(s\) pending, no commit for \d+ s/);
    expect((await first.registry.getSingleMetric('sink_consumer_stalled')?.get())?.values[0]?.value).toBe(1);
    expect(() => first.consumer.liveness()).not.toThrow(); // a store outage is no reason to restart

    await db.migrate(); // the store comes back
    await eventually(() => caughtUp(admin, groupId, topic), 'the consumer to commit everything');
    expect(await physicalRows(db)).toBe(40);
    expect(() => first.consumer.health()).not.toThrow(); // caught up: no longer stalled
    expect((await first.registry.getSingleMetric('sink_consumer_stalled')?.get())?.values[0]?.value).toBe(0);
    await first.consumer.stop();

    // The garbage message went to the DLQ with its original bytes, key and headers, the reason,
    // and where it came from; nothing else did.
    const dlqEnds = await admin.fetchTopicOffsets(dlqTopic);
    expect(dlqEnds.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
    const [letter] = await readTopic(kafka, dlqTopic, 1);
    expect(letter?.value?.equals(garbage)).toBe(true);
    expect(letter?.key?.toString()).toBe('garbage');
    expect(headerText(letter?.headers ?? {}, 'x-origin')).toBe('it');
    expect(headerText(letter?.headers ?? {}, DEAD_LETTER_HEADERS.reason)).toBe('invalid_json');
    const source = headerText(letter?.headers ?? {}, DEAD_LETTER_HEADERS.source) ?? '';
    const [srcTopic, srcPartition, srcOffset] = source.split('/');
    expect(srcTopic).toBe(topic);
    // The source names the garbage message itself: reading it there gives back the same bytes.
    const original = (await readTopic(kafka, topic, copies.length + 1)).find((m) => m.partition === Number(srcPartition) && m.offset === srcOffset);
    expect(original?.value?.equals(garbage)).toBe(true);

    // Replay everything, as after a crash between insert and commit: nothing may change.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    const second = consumerFor();
    await second.consumer.start();
    await eventually(() => caughtUp(admin, groupId, topic), 'the replay to finish');
    await second.consumer.stop();
    expect(await physicalRows(db)).toBe(40);
    const dropped = await second.registry.getSingleMetric('sink_duplicates_dropped_total')?.get();
    const where = (label: string) => dropped?.values.filter((v) => v.labels.where === label).reduce((n, v) => n + v.value, 0) ?? 0;
    // The first copy of each of the 40 events is found by the store probe; the 10 retries are
    // dropped either there or earlier, inside their batch. Every one of the 50 is dropped.
    expect(where('store')).toBeGreaterThanOrEqual(40);
    expect(where('store') + where('batch')).toBe(50);
  });
});
