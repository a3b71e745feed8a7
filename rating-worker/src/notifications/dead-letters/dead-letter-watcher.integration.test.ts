import { randomBytes } from 'node:crypto';
import { Partitioners, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogueEntry, organizations, withOrg } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { loadConfig } from '@polaris/shared/config';
import { DEAD_LETTER_REPLAY_HEADERS, deadLetterMessage, eventMessageKey } from '@polaris/shared/contracts';
import { createKafka, kafkaConnection, withKafkaConfig } from '@polaris/shared/kafka';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { eventually } from '@polaris/shared/testing';
import { createDeadLetterMetrics } from './dead-letter-metrics';
import { DeadLetterWatcher } from './dead-letter-watcher';
import { growingDedupeKey } from './record-growing-window';

// The watcher over the local stack's broker (a topic of this run) and a throwaway PostgreSQL,
// connected as the services' role (row-level security on): 12 dead letters of A in one window
// make one dead_letters.growing; B's 3 make none; letters naming no organization and replay
// records count for no one; a restart in the same group and a new group reading the topic from
// the start record nothing more; a window not over yet holds the commit, so letters read before a
// restart still count after it.

const logger = createLogger('it-dead-letter-watch', 'silent');
const connection = kafkaConnection(loadConfig(withKafkaConfig(z.object({}))));
const kafka = createKafka({ clientId: 'it-dead-letter-watch', connection, logger });
const run = randomBytes(4).toString('hex');
const topic = `test-dlwatch-${run}`;
const WINDOW_MS = 300_000;
const ALERT_MIN = 10;
// A window of an hour ago: over, so the first watcher may commit past it once its alert is recorded.
const windowStart = Math.floor((Date.now() - 3_600_000) / WINDOW_MS) * WINDOW_MS;
const at = new Date(windowStart + 60_000);

const expectEqual = (a: Map<number, string>, b: Map<number, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

describe('dead-letter watcher', () => {
  let pg: ThrowawayPostgres;
  let admin: Admin;
  let orgA: string;
  let orgB: string;
  const watchers: DeadLetterWatcher[] = [];

  function watch(groupId: string) {
    const registry = createMetricsRegistry('it-dead-letter-watch');
    const watcher = new DeadLetterWatcher(kafka, pg.appPool, { topic, groupId, windowMs: WINDOW_MS, alertMin: ALERT_MIN, flushIntervalMs: 200 }, logger, createDeadLetterMetrics(registry));
    watchers.push(watcher);
    watcher.start();
    const metric = async (name: string, labels: Record<string, string>) => {
      const found = (await registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
      return found?.value ?? 0;
    };
    return { watcher, metric };
  }

  async function growingEvents(org: string) {
    return withOrg(pg.pool, org, async (tx) => {
      const { rows } = await tx.query(`SELECT payload, dedupe_key FROM notification_events WHERE organization_id = $1 AND type = 'dead_letters.growing'`, [org]);
      return rows as Array<{ payload: Record<string, unknown>; dedupe_key: string }>;
    });
  }

  async function committedToEnd(groupId: string): Promise<boolean> {
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const done = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]));
    return ends.every((e) => done.get(e.partition) === e.high);
  }

  beforeAll(async () => {
    pg = await throwawayPostgres({ poolMax: 6 });
    orgA = (await organizations.create(pg.pool, { name: 'Dead letters A', slug: `dl-a-${run}` })).id;
    orgB = (await organizations.create(pg.pool, { name: 'Dead letters B', slug: `dl-b-${run}` })).id;
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
    const letter = (org: string, id: string, reason = 'store_rejected') => {
      const value = Buffer.from(JSON.stringify({ v: 1, namespace: org, receivedAt: 1, event: { id, source: 's', type: 't', subject: 'x', timeMs: 1, data: {} } }));
      return deadLetterMessage({ topic: 'polaris.events.v1', partition: 0, offset: id, key: eventMessageKey(org, { source: 's', id }), value, reason, detail: 'refused' }, at);
    };
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...Array.from({ length: 12 }, (_, i) => letter(orgA, `a${i}`, i % 2 ? 'store_rejected' : 'invalid_event')),
        ...Array.from({ length: 3 }, (_, i) => letter(orgB, `b${i}`)),
        // Nobody's: bytes with no key, and a key whose organization the value contradicts.
        deadLetterMessage({ topic: 'polaris.events.v1', partition: 0, offset: '90', key: null, value: Buffer.from([0x7b, 0xff]), reason: 'invalid_json', detail: 'x' }, at),
        { ...letter(orgA, 'forged'), value: Buffer.from(JSON.stringify({ namespace: orgB })) },
        // Replay records of `polaris dlq replay` (no value): not dead letters, A would reach 10 with them.
        ...Array.from({ length: 8 }, (_, i) => ({ key: eventMessageKey(orgB, { source: 's', id: `b${i}` }), value: null, headers: { [DEAD_LETTER_REPLAY_HEADERS.replayOf]: `0/${i}` } })),
      ],
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
    await pg?.drop();
  });

  it('records one dead_letters.growing for the organization over the minimum, and commits after it', async () => {
    const { watcher, metric } = watch(`it-dlwatch-${run}`);
    await eventually(async () => ((await committedToEnd(`it-dlwatch-${run}`)) ? true : undefined), 'the watcher commits the whole topic', 60_000);
    const events = await growingEvents(orgA);
    expect(events).toHaveLength(1);
    expect(events[0]?.dedupe_key).toBe(growingDedupeKey({ organizationId: orgA, windowStart }));
    const payload = z.object({ count: z.number() }).passthrough().parse(catalogueEntry('dead_letters.growing')?.schema.parse(events[0]?.payload));
    // The count when it was found over the minimum: after the batch of one partition or another.
    expect(payload.count).toBeGreaterThanOrEqual(ALERT_MIN);
    expect(payload.count).toBeLessThanOrEqual(12);
    expect(payload).toEqual({ topic, count: payload.count, windowStart: new Date(windowStart).toISOString(), windowEnd: new Date(windowStart + WINDOW_MS).toISOString() });
    expect(await growingEvents(orgB)).toEqual([]);
    expect(await metric('dead_letters_seen_total', { reason: 'store_rejected' })).toBe(6 + 3 + 1);
    expect(await metric('dead_letters_seen_total', { reason: 'invalid_event' })).toBe(6);
    expect(await metric('dead_letters_unattributed_total', { reason: 'invalid_json' })).toBe(1);
    expect(await metric('dead_letters_unattributed_total', { reason: 'store_rejected' })).toBe(1);
    expect(await metric('dead_letter_alerts_total', { outcome: 'recorded' })).toBe(1);
    await watcher.stop();
  });

  it('records nothing more after a restart, nor for a new group reading the topic from the start', async () => {
    watch(`it-dlwatch-${run}`);
    const fresh = watch(`it-dlwatch-${run}-again`);
    await eventually(async () => ((await committedToEnd(`it-dlwatch-${run}-again`)) ? true : undefined), 'the new group reads the whole topic', 60_000);
    expect(await fresh.metric('dead_letter_alerts_total', { outcome: 'already_recorded' })).toBe(1);
    expect(await growingEvents(orgA)).toHaveLength(1);
    expect(await growingEvents(orgB)).toEqual([]);
  });

  it("holds its commit in a window not over yet, so a restart counts the window's letters before it", async () => {
    // C's letters of the current window: 6 before a restart, 5 after; only all 11 reach the minimum.
    const orgC = (await organizations.create(pg.pool, { name: 'Dead letters C', slug: `dl-c-${run}` })).id;
    const current = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
    const group = `it-dlwatch-${run}-held`;
    const sendC = async (ids: string[]) => {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: ids.map((id) =>
          deadLetterMessage({ topic: 'polaris.events.v1', partition: 0, offset: id, key: eventMessageKey(orgC, { source: 's', id }), value: null, reason: 'invalid_event', detail: 'x' }, new Date(current + 1_000)),
        ),
      });
      await producer.disconnect();
    };
    const before = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.high]));
    await sendC(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    const committed = async () => new Map(((await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
    const first = watch(group);
    // Committed past the earlier letters (their window is over, A's alert recorded), up to C's first in each partition.
    await eventually(async () => (expectEqual(await committed(), before) ? true : undefined), 'the first watcher commits up to C');
    expect(await first.metric('dead_letters_seen_total', { reason: 'invalid_event' })).toBe(6 + 6);
    await first.watcher.stop();
    expect(await growingEvents(orgC)).toEqual([]);
    // And never past them.
    expect(await committed()).toEqual(before);

    await sendC(['c6', 'c7', 'c8', 'c9', 'c10']);
    watch(group);
    const [event] = await eventually(async () => {
      const events = await growingEvents(orgC);
      return events.length > 0 ? events : undefined;
    }, 'dead_letters.growing for C after the restart');
    expect(event?.dedupe_key).toBe(growingDedupeKey({ organizationId: orgC, windowStart: current }));
    // At least 10: the 5 letters sent after the restart alone would not reach the minimum.
    expect(Number(event?.payload.count)).toBeGreaterThanOrEqual(ALERT_MIN);
  });
});
