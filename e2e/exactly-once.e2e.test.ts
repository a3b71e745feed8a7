import { describe, expect, it } from 'vitest';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { sqlString } from '@polaris/clickhouse';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { createTenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';

const ch = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123', database: 'polaris' });
const kafka = new Kafka({ clientId: 'e2e', brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:59092'], logLevel: logLevel.NOTHING });

/** True once the sink-worker's group has committed everything written to the topic so far. */
async function sinkCaughtUp(): Promise<true | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(EVENTS_TOPIC);
    const [committed] = await admin.fetchOffsets({ groupId: 'polaris-sink', topics: [EVENTS_TOPIC] });
    const done = ends.every((end) => {
      const c = committed?.partitions.find((p) => p.partition === end.partition);
      return c !== undefined && BigInt(c.offset === '-1' ? '0' : c.offset) >= BigInt(end.high);
    });
    return done ? true : undefined;
  } finally {
    await admin.disconnect();
  }
}

async function storedCopies(orgId: string, id: string): Promise<number> {
  // No FINAL: we count physical rows, so an unmerged duplicate would show.
  const rs = await ch.query({
    query: `SELECT count() AS n FROM events_raw WHERE namespace = ${sqlString(orgId)} AND id = ${sqlString(id)}`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}

describe('exactly once into ClickHouse', () => {
  it('stores an event sent five times (singly and in a batch) as one row', async () => {
    const tenant = await createTenant();
    const event = cloudEvent();
    for (let i = 0; i < 3; i++) expect((await postEvents(tenant.apiKey, event)).status).toBe(202);
    expect((await postEvents(tenant.apiKey, [event, event], 'application/cloudevents-batch+json')).status).toBe(202);

    await eventually(async () => ((await storedCopies(tenant.orgId, event.id)) === 1 ? true : undefined), 'the event to be stored');
    await eventually(sinkCaughtUp, 'the sink-worker to consume every copy');
    expect(await storedCopies(tenant.orgId, event.id)).toBe(1);
  });

  it('keeps the same id from two different sources apart', async () => {
    const tenant = await createTenant();
    const a = cloudEvent({ source: 'billing-a' });
    const b = { ...a, source: 'billing-b' };
    expect((await postEvents(tenant.apiKey, [a, b], 'application/cloudevents-batch+json')).status).toBe(202);
    await eventually(async () => ((await storedCopies(tenant.orgId, a.id)) === 2 ? true : undefined), 'both events to be stored');
  });
});
