import { describe, expect, it } from 'vitest';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { EventIdentity, EventsRawRow, EventsRawWriter } from '@polaris/clickhouse';
import { DEAD_LETTER_HEADERS, encodeEventMessage, eventIdentityKey } from '@polaris/shared/contracts';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { EventsConsumer } from './events.consumer';
import type { FlushLimits } from './flush-buffer';

// The consumer against fakes of kafkajs and the writer: the paths a real stack cannot be made to
// take on demand (a consumer that kafkajs will not restart, a dead-letter topic that refuses).

const logger = createLogger('test', 'silent');
const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
type Handler = (e: { payload: { error: Error; restart: boolean } }) => void;

function fakeKafka(opts: { runRejects?: Error; dlqFailures?: number } = {}) {
  const handlers = new Map<string, Handler>();
  const commits: Array<{ partition: number; offset: string }> = [];
  const sent: Array<{ key?: unknown; value: Buffer | null; headers: Record<string, unknown> }> = [];
  let dlqFailures = opts.dlqFailures ?? 0;
  let eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' },
    on: (name: string, fn: Handler) => handlers.set(name, fn),
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (cfg: { eachBatch: (p: EachBatchPayload) => Promise<void> }) => {
      if (opts.runRejects) throw opts.runRejects;
      eachBatch = cfg.eachBatch;
    },
    disconnect: async () => undefined,
  };
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: async ({ messages }: { messages: typeof sent }) => {
      if (dlqFailures > 0) {
        dlqFailures--;
        throw new Error('KafkaJSConnectionError: Connection error: connect ECONNREFUSED');
      }
      sent.push(...messages);
    },
  };
  const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
  return {
    kafka,
    commits,
    sent,
    emit: (name: string, payload: { error: Error; restart: boolean }) => handlers.get(name)?.({ payload }),
    join: () => (handlers.get('consumer.group_join') as unknown as () => void)(),
    batch: (partition: number, messages: Array<{ offset: string; key?: Buffer | null; value: Buffer | null; headers?: Record<string, Buffer> }>, highWatermark?: string) => {
      if (!eachBatch) throw new Error('not running');
      const last = messages[messages.length - 1]?.offset ?? '0';
      return eachBatch({
        batch: {
          topic: 'events', partition, highWatermark: highWatermark ?? String(BigInt(last) + 1n), messages,
          firstOffset: () => messages[0]?.offset ?? null, lastOffset: () => last,
        },
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale: () => false,
        resolveOffset: () => undefined,
        commitOffsetsIfNecessary: async (offsets?: { topics: Array<{ partitions: Array<{ partition: number; offset: string }> }> }) => {
          for (const t of offsets?.topics ?? []) commits.push(...t.partitions.map(({ partition, offset }) => ({ partition, offset })));
        },
      } as unknown as EachBatchPayload);
    },
  };
}

/** A writer over an in-memory table that refuses like ClickHouse 18.16 does. */
function fakeWriter(opts: { refuse?: (r: EventsRawRow) => boolean; outages?: number } = {}) {
  const rows: EventsRawRow[] = [];
  const inserts: number[] = [];
  let outages = opts.outages ?? 0;
  const key = (r: EventIdentity) => eventIdentityKey(r.namespace, r.source, r.id);
  const writer: EventsRawWriter = {
    findExisting: async (ids) => new Set((await writer.findStored(ids, '1970-01-01')).keys()),
    // Like event_identities_v2: the first stored copy's fingerprint, '0' when it has none.
    findStored: async (ids) => {
      if (outages > 0) {
        outages--;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:58123'), { code: 'ECONNREFUSED' });
      }
      const have = new Map<string, string>();
      for (const r of rows) if (!have.has(key(r))) have.set(key(r), r.payload_fingerprint ?? '0');
      return new Map(ids.map(key).flatMap((k): Array<[string, string]> => (have.has(k) ? [[k, have.get(k) ?? '0']] : [])));
    },
    insert: async (batch) => {
      inserts.push(batch.length);
      if (batch.some((r) => opts.refuse?.(r))) {
        throw new Error('Code: 25, e.displayText() = DB::Exception: Cannot parse escape sequence: missing second part of surrogate pair, e.what() = DB::Exception');
      }
      rows.push(...batch);
    },
  };
  return { rows, writer, inserts };
}

const msg = (offset: number, id: string) => ({
  offset: String(offset),
  key: Buffer.from(`k-${id}`),
  value: encodeEventMessage(ns, { id, source: 'svc', type: 't', subject: 's', timeMs: 0, data: { n: offset } }, 0),
  headers: { traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') },
});

async function metric(registry: ReturnType<typeof createMetricsRegistry>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((n, v) => n + v.value, 0) ?? 0;
}

function setup(k: ReturnType<typeof fakeKafka>, writer: EventsRawWriter, extra: { now?: () => number; stallTimeoutMs?: number; flush?: FlushLimits } = {}) {
  const registry = createMetricsRegistry('test');
  const stopped: Error[] = [];
  const consumer = new EventsConsumer(k.kafka, writer, { groupId: 'g', topic: 'events', dlqTopic: 'dlq', onStopped: (e) => stopped.push(e), ...extra }, logger, registry);
  return { consumer, registry, stopped };
}

describe('EventsConsumer (fakes)', () => {
  it('a consumer kafkajs will not restart fails liveness and asks the process to exit, once', async () => {
    const k = fakeKafka();
    const { consumer, registry, stopped } = setup(k, fakeWriter().writer);
    await consumer.start();
    k.join();
    expect(() => consumer.liveness()).not.toThrow();

    k.emit('consumer.crash', { error: new Error('retriable'), restart: true });
    expect(stopped).toEqual([]);
    expect(() => consumer.liveness()).not.toThrow();

    const fatal = new Error('KafkaJSNonRetriableError: Maximum call stack size exceeded');
    k.emit('consumer.crash', { error: fatal, restart: false });
    k.emit('consumer.crash', { error: fatal, restart: false });
    expect(stopped).toEqual([fatal]);
    expect(() => consumer.liveness()).toThrow(/consumer stopped for good: .*Maximum call stack/);
    expect(() => consumer.health()).toThrow(/consumer stopped for good/);
    expect(await metric(registry, 'sink_consumer_stalled')).toBe(1);
  });

  it('a run that fails is reported as stopped', async () => {
    const k = fakeKafka({ runRejects: new Error('cannot join') });
    const { consumer, stopped } = setup(k, fakeWriter().writer);
    await expect(consumer.start()).rejects.toThrow('cannot join');
    expect(stopped.map((e) => e.message)).toEqual(['cannot join']);
    expect(() => consumer.liveness()).toThrow(/cannot join/);
  });

  it('dead-letters rows the store refuses, with the original bytes, key and headers, stores the rest, then commits', async () => {
    const k = fakeKafka();
    const w = fakeWriter({ refuse: (r) => r.id.startsWith('bad') });
    const { consumer, registry } = setup(k, w.writer);
    await consumer.start();
    k.join();
    const bad1 = msg(11, 'bad-1');
    await k.batch(0, [msg(10, 'a'), bad1, msg(12, 'b'), msg(13, 'c'), msg(14, 'bad-2'), { offset: '15', value: Buffer.from('not json') }]);

    expect(w.rows.map((r) => r.id).sort()).toEqual(['a', 'b', 'c']);
    expect(k.sent.map((m) => [m.headers[DEAD_LETTER_HEADERS.reason], m.headers[DEAD_LETTER_HEADERS.source]])).toEqual([
      ['store_rejected', 'events/0/11'],
      ['store_rejected', 'events/0/14'],
      ['invalid_json', 'events/0/15'],
    ]);
    expect(k.sent[0]?.value).toEqual(bad1.value);
    expect(k.sent[0]?.key).toEqual(bad1.key);
    expect(k.sent[0]?.headers.traceparent).toEqual(bad1.headers.traceparent);
    expect(String(k.sent[0]?.headers[DEAD_LETTER_HEADERS.detail])).toMatch(/CANNOT_PARSE_ESCAPE_SEQUENCE, code 25\): Code: 25/);
    expect(k.commits).toEqual([{ partition: 0, offset: '16' }]);
    expect(await metric(registry, 'sink_dead_letters_total', { reason: 'store_rejected' })).toBe(2);
    expect(await metric(registry, 'sink_dead_letters_total', { reason: 'invalid_json' })).toBe(1);
    expect(await metric(registry, 'sink_events_written_total')).toBe(3);
    expect(await metric(registry, 'sink_store_errors_total')).toBe(0);
    expect(await metric(registry, 'sink_dead_letter_send_errors_total')).toBe(0);
  });

  it('keeps the first copy of an identity sent again with another payload, and dead-letters the later one as conflicting_duplicate', async () => {
    const k = fakeKafka();
    const w = fakeWriter();
    const { consumer, registry } = setup(k, w.writer);
    await consumer.start();
    k.join();
    const other = (offset: number, id: string, n: number) => ({ ...msg(offset, id), value: encodeEventMessage(ns, { id, source: 'svc', type: 't', subject: 's', timeMs: 0, data: { n } }, 0) });
    // In one batch: a retry (same payload) and a conflict (another payload) of 'a'.
    await k.batch(0, [msg(0, 'a'), other(1, 'a', 0), other(2, 'a', 99)]);
    // Later batches: another conflicting copy, then a plain replay of 'a', both found by the store probe.
    await k.batch(0, [other(3, 'a', 7), msg(4, 'b')]);
    await k.batch(0, [msg(0, 'a')]);

    expect(w.rows.map((r) => [r.id, r.data])).toEqual([['a', '{"n":0}'], ['b', '{"n":4}']]);
    expect(k.sent.map((m) => [m.headers[DEAD_LETTER_HEADERS.reason], m.headers[DEAD_LETTER_HEADERS.source]])).toEqual([
      ['conflicting_duplicate', 'events/0/2'],
      ['conflicting_duplicate', 'events/0/3'],
    ]);
    expect(String(k.sent[0]?.headers[DEAD_LETTER_HEADERS.detail])).toMatch(/already stored with another payload .*the first copy is kept/);
    expect(await metric(registry, 'sink_conflicting_duplicates_total', { where: 'batch' })).toBe(1);
    expect(await metric(registry, 'sink_conflicting_duplicates_total', { where: 'store' })).toBe(1);
    expect(await metric(registry, 'sink_duplicates_dropped_total', { where: 'batch' })).toBe(1);
    expect(await metric(registry, 'sink_duplicates_dropped_total', { where: 'store' })).toBe(1);
    expect(await metric(registry, 'sink_dead_letters_total', { reason: 'conflicting_duplicate' })).toBe(2);
  });

  it('retries a dead-letter topic that refuses, and commits only once the dead letters are sent', async () => {
    const k = fakeKafka({ dlqFailures: 2 });
    const { consumer, registry } = setup(k, fakeWriter().writer);
    await consumer.start();
    k.join();
    const done = k.batch(0, [msg(0, 'a'), { offset: '1', value: Buffer.from('garbage') }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(k.commits).toEqual([]);
    await done;
    expect(k.sent).toHaveLength(1);
    expect(k.commits).toEqual([{ partition: 0, offset: '2' }]);
    // Counted as what they are: the broker refused the dead letters, ClickHouse refused nothing.
    expect(await metric(registry, 'sink_dead_letter_send_errors_total')).toBe(2);
    expect(await metric(registry, 'sink_store_errors_total')).toBe(0);
  });

  it('an outage is retried, never dead-lettered; the partition shows as stalled past the timeout, and recovers', async () => {
    let now = 1_000_000;
    const k = fakeKafka();
    const w = fakeWriter({ outages: 3 });
    const { consumer, registry } = setup(k, w.writer, { now: () => now, stallTimeoutMs: 5_000 });
    await consumer.start();
    k.join();
    const done = k.batch(4, [msg(100, 'a'), msg(101, 'b')], '250');
    await new Promise((r) => setTimeout(r, 50));
    now += 5_001;
    expect(() => consumer.health()).toThrow('consumer stalled (no progress for more than 5 s): partition 4: 150 message(s) pending, no commit for 5 s');
    expect(() => consumer.liveness()).not.toThrow(); // stuck on the store is no reason to restart
    expect(await metric(registry, 'sink_consumer_stalled')).toBe(1);
    expect(await metric(registry, 'sink_partition_uncommitted_seconds', { partition: '4' })).toBeCloseTo(5.001);
    await done;
    expect(k.sent).toEqual([]);
    expect(w.rows.map((r) => r.id)).toEqual(['a', 'b']);
    expect(await metric(registry, 'sink_store_errors_total')).toBe(3);
    expect(await metric(registry, 'sink_dead_letter_send_errors_total')).toBe(0);
    expect(k.commits).toEqual([{ partition: 4, offset: '102' }]);
    // Committed, but 148 more are pending: the clock restarted at the commit.
    expect(() => consumer.health()).not.toThrow();
    expect(await metric(registry, 'sink_consumer_stalled')).toBe(0);
    expect(await metric(registry, 'sink_partition_last_commit_timestamp_seconds', { partition: '4' })).toBe(now / 1000);
  });

  it('with flush limits, gathers the batches of several partitions into one probe and one INSERT, and commits them only once stored', async () => {
    const k = fakeKafka();
    const w = fakeWriter();
    const { consumer, registry } = setup(k, w.writer, { flush: { maxEvents: 1_000, maxBytes: 1 << 20, maxMs: 100 } });
    await consumer.start();
    k.join();
    // Backlog on partition 0 (more waiting): gathered, not stored, not committed, not waited for.
    await k.batch(0, [msg(0, 'a'), msg(1, 'b')], '10');
    expect(w.inserts).toEqual([]);
    expect(k.commits).toEqual([]);
    // Caught-up batches wait together for the time limit; a copy of 'a' in the next batch of partition 0 is a duplicate within the flush.
    await Promise.all([k.batch(0, [{ ...msg(0, 'a'), offset: '2' }, msg(3, 'c')], '4'), k.batch(1, [msg(7, 'd')], '8')]);
    expect(w.inserts).toEqual([4]);
    expect(w.rows.map((r) => r.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(k.commits.sort((x, y) => x.partition - y.partition)).toEqual([{ partition: 0, offset: '4' }, { partition: 1, offset: '8' }]);
    expect(await metric(registry, 'sink_duplicates_dropped_total', { where: 'batch' })).toBe(1);
  });

  it('with flush limits, a full buffer is stored at once, before the next batch is taken', async () => {
    const k = fakeKafka();
    const w = fakeWriter();
    const { consumer } = setup(k, w.writer, { flush: { maxEvents: 3, maxBytes: 1 << 20, maxMs: 60_000 } });
    await consumer.start();
    k.join();
    await k.batch(0, [msg(0, 'a'), msg(1, 'b')], '100');
    await k.batch(0, [msg(2, 'c'), msg(3, 'd')], '100');
    expect(w.inserts).toEqual([4]);
    expect(k.commits).toEqual([{ partition: 0, offset: '4' }]);
    // A new group generation: what was gathered is read again from the last commit, never committed by us.
    await k.batch(0, [msg(4, 'e')], '100');
    k.join();
    await k.batch(0, [msg(4, 'e'), msg(5, 'f'), msg(6, 'g')], '100');
    expect(w.inserts).toEqual([4, 3]);
    expect(k.commits).toEqual([{ partition: 0, offset: '4' }, { partition: 0, offset: '7' }]);
  });
});
