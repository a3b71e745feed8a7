import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeadLetters, showDeadLetters } from '@polaris/cli/dead-letter';
import { eventually } from '../support/http';
import { metric } from '../support/private-services';
import { kafkaAt } from '../support/topics';
import { createTokensMeter, expectExactlyOnce } from './support/exactly-once';
import { startFaultSystem, type FaultSystem } from './support/fault-system';
import { steadyLoad } from './support/steady-load';

/**
 * Faults of the pipeline's own processes, on the local stack's broker and ClickHouse (a topic,
 * a dead-letter topic and a database of this file's own): the sink-worker SIGKILLed mid-batch
 * three times, the collector SIGKILLed under load, the same events sent five times at once, and
 * poison messages produced straight to the topic. Each scenario is an organization of its own,
 * fed a steady stream of events with known ids through the typed client (@polaris/sdk, retrying as
 * it does for customers), and ends in exact equality (support/exactly-once.ts): one row per
 * accepted event, and the SUM meter's rollups equal to the raw total. Scenarios run one after
 * another: they share the system.
 */
describe('faults of the pipeline processes: nothing lost, nothing doubled', () => {
  let sys: FaultSystem;

  beforeAll(async () => {
    // The broker's shortest session (6 s): each SIGKILLed sink holds its partitions that long
    // before its successor gets them (30 s in production would make three kills take minutes).
    sys = await startFaultSystem({ label: 'faults-pipeline', partitions: 3, sessionTimeoutMs: 6_000 });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('the sink-worker SIGKILLed mid-batch three times, under a steady stream', { timeout: 150_000 }, async () => {
    const tenant = await sys.createTenant();
    await createTokensMeter(sys, tenant);
    const load = steadyLoad({ collectorUrl: sys.collectorUrl, apiKey: tenant.apiKey, count: 3_000, perSecond: 100, idPrefix: 'sink-kill' });
    for (let kill = 1; kill <= 3; kill++) {
      // Storing the stream right now: this sink has written rows, and more keep coming every 500 ms.
      const ops = sys.sinkOpsPort();
      await eventually(async () => ((await metric(ops, 'sink_events_written_total')) > 0 ? true : undefined), `sink ${kill} to store events`, 30_000, 50);
      await sys.killSink();
      await sys.restartSink();
    }
    const report = await load.done;
    expect(report.problems).toEqual([]);
    await expectExactlyOnce(sys, tenant, report.sent);
    // The lag the sink reports, read from the broker: nothing left once it caught up.
    await eventually(async () => ((await metric(sys.sinkOpsPort(), 'sink_consumer_lag_total', { topic: sys.topic })) === 0 ? true : undefined), 'the lag gauge to read 0');
    expect(await metric(sys.sinkOpsPort(), 'sink_batch_messages_count')).toBeGreaterThan(0);
  });

  it('the collector SIGKILLed twice under load: the client retries to the restarted one', { timeout: 120_000 }, async () => {
    const tenant = await sys.createTenant();
    await createTokensMeter(sys, tenant);
    const load = steadyLoad({ collectorUrl: sys.collectorUrl, apiKey: tenant.apiKey, count: 3_000, perSecond: 150, idPrefix: 'collector-kill' });
    for (const share of [1 / 3, 2 / 3]) {
      await eventually(async () => (load.tracked() >= 3_000 * share ? true : undefined), 'the load to get along', 60_000, 50);
      await sys.killCollector();
      await sys.restartCollector();
    }
    const report = await load.done;
    expect(report.problems).toEqual([]);
    // The faults were felt: requests failed and were sent again.
    expect(report.stats.retried).toBeGreaterThan(0);
    await expectExactlyOnce(sys, tenant, report.sent);
  });

  it('the same 1,000 events sent five times at once', { timeout: 90_000 }, async () => {
    const tenant = await sys.createTenant();
    await createTokensMeter(sys, tenant);
    // Exact copies: the same id, time and data each time (a copy with other content would be a conflict).
    const start = Date.now();
    const timeOf = (i: number) => new Date(start + i);
    const loads = Array.from({ length: 5 }, () => steadyLoad({ collectorUrl: sys.collectorUrl, apiKey: tenant.apiKey, count: 1_000, perSecond: 1_000, idPrefix: 'five-times', timeOf }));
    const reports = await Promise.all(loads.map((l) => l.done));
    for (const r of reports) expect(r.problems).toEqual([]);
    const sent = reports.flatMap((r) => r.sent);
    expect(sent).toHaveLength(5_000);
    await expectExactlyOnce(sys, tenant, sent);
    // Dropped as duplicates, not dead-lettered as conflicts.
    expect(await listDeadLetters({ connection: { brokers: sys.brokers }, dlq: sys.dlqTopic, limit: 10, organizationId: tenant.orgId })).toEqual([]);
  });

  it('poison messages produced straight to the topic land in the dead-letter topic; the rest keeps flowing', { timeout: 90_000 }, async () => {
    const tenant = await sys.createTenant();
    await createTokensMeter(sys, tenant);
    const poison = [
      { reason: 'invalid_json', value: Buffer.from('{"v":1,"namespace":') },
      { reason: 'invalid_json', value: Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22, 0x80, 0x0a]) },
      { reason: 'invalid_schema', value: Buffer.from(JSON.stringify({ v: 2, namespace: tenant.orgId })) },
      { reason: 'invalid_schema', value: Buffer.from(JSON.stringify({ v: 1, namespace: tenant.orgId, receivedAt: 1, event: { id: 'p', source: 's', type: 't', subject: 'x', timeMs: 1, data: 'not an object' } })) },
    ];
    const load = steadyLoad({ collectorUrl: sys.collectorUrl, apiKey: tenant.apiKey, count: 2_000, perSecond: 200, idPrefix: 'poison-flow' });
    const producer = kafkaAt(sys.brokers).producer();
    await producer.connect();
    try {
      for (const [i, p] of poison.entries()) {
        await eventually(async () => (load.tracked() >= (i + 1) * 400 ? true : undefined), 'the load to get along', 30_000, 50);
        await producer.send({ topic: sys.topic, acks: -1, messages: [{ partition: i % 3, key: `poison-${i}`, value: p.value }] });
      }
    } finally {
      await producer.disconnect();
    }
    const report = await load.done;
    expect(report.problems).toEqual([]);
    await expectExactlyOnce(sys, tenant, report.sent);

    // Read back with the DLQ tools' own functions (polaris dlq list / show).
    const connection = { brokers: sys.brokers };
    const letters = await eventually(async () => {
      const found = [
        ...(await listDeadLetters({ connection, dlq: sys.dlqTopic, limit: 100, reason: 'invalid_json' })),
        ...(await listDeadLetters({ connection, dlq: sys.dlqTopic, limit: 100, reason: 'invalid_schema' })),
      ];
      return found.length >= poison.length ? found : undefined;
    }, 'the poison messages to be dead-lettered');
    expect(letters).toHaveLength(poison.length);
    const shown = await showDeadLetters({ connection, dlq: sys.dlqTopic, ids: letters.map((l) => ({ partition: l.partition, offset: BigInt(l.offset) })) });
    for (const p of poison) {
      const letter = shown.find((l) => l.value?.equals(p.value));
      expect(letter, `the dead letter of ${p.value.toString('base64')}`).toBeDefined();
      expect(letter?.reason).toBe(p.reason);
      expect(letter?.source).toMatch(new RegExp(`^${sys.topic.replace(/\./g, '\\.')}/\\d/\\d+$`));
    }
  });
});
