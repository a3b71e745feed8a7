import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { eventsRawWriter, type EventsRawWriter } from '@polaris/clickhouse';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { DEAD_LETTER_HEADERS, encodeEventMessage, eventMessageKey, type NormalizedEvent } from '@polaris/shared/contracts';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { eventually } from '@polaris/shared/testing';
import { EventsConsumer } from './events.consumer';
import { headerText, readTopic } from '../test-support/read-topic';
import { TEST_KAFKA_BROKERS } from '../test-support/env';

// "No message can stop the sink": poison in the middle of a batch of good messages, on the real
// broker and ClickHouse. Each poison lands in the DLQ with its original bytes; every good event
// is stored once; the consumer keeps going.

const kafka = new Kafka({ clientId: 'it-sink-poison', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const logger = createLogger('it-sink-poison', 'silent');
const ns = randomUUID();
const STORE_POISON = 'poison-for-the-store';

function event(i: number, subject = `s-${i % 3}`): NormalizedEvent {
  return { id: `e-${i}`, source: 'it', type: 'api.request', subject, timeMs: Date.UTC(2026, 5, 1, 0, 0, i), data: { n: i } };
}

/**
 * Turns the rows of one marked, perfectly valid event into what ClickHouse refuses (a lone
 * surrogate): the store-rejection path, proven whatever the topic schema refuses on its own.
 */
function poisoningWriter(real: EventsRawWriter): EventsRawWriter {
  return {
    ...real,
    insert: (rows) => real.insert(rows.map((r) => (r.subject === STORE_POISON ? { ...r, subject: '\ud800' } : r))),
  };
}

async function storedIds(db: ThrowawayDatabase): Promise<string[]> {
  const rs = await db.client.query({ query: `SELECT id FROM events_raw WHERE namespace = '${ns}' ORDER BY id`, format: 'JSONEachRow' });
  return (await rs.json<{ id: string }>()).map((r) => r.id);
}

describe('EventsConsumer with poison in the topic', () => {
  const topic = `it.events.poison.${randomUUID()}`;
  const dlqTopic = `it.events.poison.dlq.${randomUUID()}`;
  const groupId = `it-sink-poison-${randomUUID()}`;
  const admin = kafka.admin();
  const producer = kafka.producer();
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    // One partition: the poison sits between good messages of the same batch, at known offsets.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }, { topic: dlqTopic, numPartitions: 1 }], waitForLeaders: true });
    db = await throwawayDatabase();
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
    await db?.drop();
  });

  it('dead-letters each poison message with its bytes, stores every good event once, and keeps going', async () => {
    const good = (i: number) => ({ key: eventMessageKey(ns, event(i)), value: encodeEventMessage(ns, event(i), Date.UTC(2026, 5, 1)) });
    const envelope = (id: string, data: string) =>
      `{"v":1,"namespace":"${ns}","receivedAt":${Date.UTC(2026, 5, 1)},"event":{"id":"${id}","source":"it","type":"api.request","subject":"s","timeMs":${Date.UTC(2026, 5, 1)},"data":${data}}}`;
    const poison = {
      // Valid JSON, invalid Unicode: the raw escape text, as a producer would send it.
      surrogate: { key: 'poison-surrogate', value: Buffer.from(envelope('\\ud800', '{"n":1}')) },
      // 5,000 levels: overflowed JSON.stringify and killed the consumer. Built as text.
      deep: { key: 'poison-deep', value: Buffer.from(envelope('deep', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`)) },
      garbage: { key: 'poison-garbage', value: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]) },
      store: { key: 'poison-store', value: encodeEventMessage(ns, event(1_000, STORE_POISON), Date.UTC(2026, 5, 1)) },
    };
    const sequence = [
      ...[0, 1, 2, 3, 4].map(good), { ...poison.surrogate, headers: { 'x-origin': 'it' } },
      ...[5, 6, 7, 8, 9].map(good), poison.deep,
      ...[10, 11, 12, 13, 14].map(good), poison.garbage,
      ...[15, 16, 17, 18, 19].map(good), poison.store,
      ...[20, 21, 22, 23, 24].map(good), good(3), // and a client retry
    ];
    const offsetOf = (m: { key: string }) => String(sequence.findIndex((s) => s.key === m.key));
    await producer.send({ topic, acks: -1, messages: sequence });

    const registry = createMetricsRegistry('it');
    const consumer = new EventsConsumer(kafka, poisoningWriter(eventsRawWriter(db.client)), { groupId, topic, dlqTopic }, logger, registry);
    await consumer.start();
    try {
      const goodIds = Array.from({ length: 25 }, (_, i) => `e-${i}`).sort();
      await eventually(async () => ((await storedIds(db)).length >= 25 ? true : undefined), 'the good events to be stored');

      const letters = await readTopic(kafka, dlqTopic, 4);
      const byKey = new Map(letters.map((l) => [l.key?.toString(), l]));
      const expected: Array<[keyof typeof poison, string[]]> = [
        // The topic schema may refuse the surrogate and the depth itself; if it does not, the
        // store (surrogate) and the sink's own guard (depth) do.
        ['surrogate', ['invalid_schema', 'store_rejected']],
        ['deep', ['invalid_schema', 'handler_error']],
        ['garbage', ['invalid_json']],
        ['store', ['store_rejected']],
      ];
      for (const [name, reasons] of expected) {
        const letter = byKey.get(poison[name].key);
        expect(letter, name).toBeDefined();
        expect(letter?.value?.equals(poison[name].value), `${name}: original bytes`).toBe(true);
        expect(reasons, name).toContain(headerText(letter?.headers ?? {}, DEAD_LETTER_HEADERS.reason));
        expect(headerText(letter?.headers ?? {}, DEAD_LETTER_HEADERS.source)).toBe(`${topic}/0/${offsetOf(poison[name])}`);
        expect(headerText(letter?.headers ?? {}, DEAD_LETTER_HEADERS.detail)?.length).toBeGreaterThan(0);
        expect(Number.isNaN(Date.parse(headerText(letter?.headers ?? {}, DEAD_LETTER_HEADERS.at) ?? ''))).toBe(false);
      }
      expect(headerText(byKey.get('poison-surrogate')?.headers ?? {}, 'x-origin')).toBe('it'); // original headers kept
      expect(headerText(byKey.get('poison-store')?.headers ?? {}, DEAD_LETTER_HEADERS.detail)).toMatch(/code 25\): Code: 25/);
      const dlqEnds = await admin.fetchTopicOffsets(dlqTopic);
      expect(dlqEnds.reduce((n, p) => n + Number(p.high), 0)).toBe(4);

      // Every good event exactly once, nothing else.
      expect(await storedIds(db)).toEqual(goodIds);

      // The consumer kept going: the offsets are committed past the poison, and a later event is stored.
      await eventually(async () => {
        const [c] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return c?.partitions[0]?.offset === String(sequence.length) ? true : undefined;
      }, 'the batch to be committed');
      await producer.send({ topic, acks: -1, messages: [good(25)] });
      await eventually(async () => ((await storedIds(db)).includes('e-25') ? true : undefined), 'a later event to be stored');
      expect(() => consumer.health()).not.toThrow();
      expect(() => consumer.liveness()).not.toThrow();
      const dead = await registry.getSingleMetric('sink_dead_letters_total')?.get();
      expect(dead?.values.reduce((n, v) => n + v.value, 0)).toBe(4);
    } finally {
      await consumer.stop();
    }
  });
});
