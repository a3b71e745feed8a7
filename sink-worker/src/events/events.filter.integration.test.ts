import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { eventsRawWriter } from '@polaris/clickhouse';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { encodeEventMessage, eventMessageKey, type NormalizedEvent } from '@polaris/shared/contracts';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { eventually } from '@polaris/shared/testing';
import type { Registry } from 'prom-client';
import { EventsConsumer } from './events.consumer';
import { identityFilterSource } from './identity-filter-source';
import { TEST_KAFKA_BROKERS } from '../test-support/env';

// The identity filters against a real broker and ClickHouse: rebuilt from what is stored when a
// consumer is assigned its partitions, so a restarted sink still drops a copy of a stored event
// while it probes only what the filter cannot rule out.

const kafka = new Kafka({ clientId: 'it-sink-filter', brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const logger = createLogger('it-sink-filter', 'silent');
const ns = randomUUID();
const PARTITIONS = 3;

const eventTime = Date.now() - 60_000;
const event = (i: number): NormalizedEvent => ({ id: `f-${i}`, source: 'it', type: 'api.request', subject: 's', timeMs: eventTime, data: { n: i } });

async function count(db: ThrowawayDatabase, query: string): Promise<number> {
  const rs = await db.client.query({ query, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

async function caughtUp(admin: Admin, groupId: string, topic: string): Promise<true | undefined> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const done = ends.every((end) => {
    const c = committed?.partitions.find((p) => p.partition === end.partition);
    return c !== undefined && c.offset !== '-1' && BigInt(c.offset) >= BigInt(end.high);
  });
  return done ? true : undefined;
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

describe('identity filters in front of the probe (Kafka + ClickHouse)', () => {
  const topic = `it.events.filter.${randomUUID()}`;
  const dlqTopic = `it.events.filter.dlq.${randomUUID()}`;
  const groupId = `it-sink-filter-${randomUUID()}`;
  const admin = kafka.admin();
  const producer = kafka.producer();
  let db: ThrowawayDatabase;

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }, { topic: dlqTopic, numPartitions: 1 }], waitForLeaders: true });
    db = await throwawayDatabase();
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
    await db?.drop();
  });

  const start = async () => {
    const registry = createMetricsRegistry('it');
    const source = identityFilterSource(kafka, db.client, topic);
    const consumer = new EventsConsumer(kafka, eventsRawWriter(db.client), { groupId, topic, dlqTopic, identityFilters: { source } }, logger, registry);
    await consumer.start();
    // Assigned, and every partition's filter rebuilt from ClickHouse.
    await eventually(async () => ((await registry.getSingleMetric('sink_identity_filter_bytes')?.get())?.values.length === PARTITIONS ? true : undefined), 'the filters to be rebuilt');
    return { registry, stop: async () => (await consumer.stop(), await source.close()) };
  };
  const send = (events: NormalizedEvent[]) =>
    producer.send({ topic, acks: -1, messages: events.map((ev) => ({ key: eventMessageKey(ns, ev), value: encodeEventMessage(ns, ev, Date.now()) })) });

  it('a restarted sink rebuilds its filters from what is stored: copies of stored events are still dropped, new events are not probed', async () => {
    const first = await start();
    await send(Array.from({ length: 30 }, (_, i) => event(i)));
    await eventually(() => caughtUp(admin, groupId, topic), 'the first 30 events to be committed');
    await first.stop();
    expect(await count(db, `SELECT count() AS n FROM events_raw WHERE namespace = '${ns}'`)).toBe(30);
    // Each row is labelled with its home partition under the topic's partition count.
    expect(await count(db, `SELECT count() AS n FROM event_identities_v2 WHERE namespace = '${ns}' AND kafka_partitions = ${PARTITIONS} AND identity_hash != 0`)).toBe(30);

    // Restart (a new consumer of the same group: nothing in memory survives), then 10 copies of
    // stored events, each in a batch of its own (no in-batch dedup), and 20 new events.
    const second = await start();
    expect(await metric(second.registry, 'sink_identity_filter_identities')).toBe(30);
    for (let i = 0; i < 10; i++) await send([event(i)]);
    await send(Array.from({ length: 20 }, (_, i) => event(100 + i)));
    await eventually(() => caughtUp(admin, groupId, topic), 'the copies and new events to be committed');
    expect(await count(db, `SELECT count() AS n FROM events_raw WHERE namespace = '${ns}'`)).toBe(50);
    // Counted right after the commit the wait above saw.
    await eventually(async () => ((await metric(second.registry, 'sink_events_written_total')) === 20 ? true : undefined), 'the counters');
    expect(await metric(second.registry, 'sink_duplicates_dropped_total', { where: 'store' })).toBe(10);
    // The copies were probed (the filter may hold them); almost all new events were not.
    expect(await metric(second.registry, 'sink_probe_screened_total', { filter: 'maybe' })).toBeGreaterThanOrEqual(10);
    expect(await metric(second.registry, 'sink_probe_screened_total', { filter: 'no' })).toBeGreaterThanOrEqual(15);
    expect(await metric(second.registry, 'sink_probe_screened_total', { filter: 'unfiltered' })).toBe(0);
    await second.stop();
  });
});
