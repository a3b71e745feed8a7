/**
 * bench:sink — end-to-end sink throughput: a backlog of events (with client-retry duplicates) on
 * the topic, then a fresh sink-worker, timed until ClickHouse holds every unique event. Baseline
 * in the same run: raw JSONEachRow inserts of the same rows, in batches of the size the sink
 * used. Prints ratios, never judges them: it fails only on errors and wrong counts.
 */
import type { Message } from 'kafkajs';
import { eventsRaw, sqlString, type ClickHouseClient } from '@polaris/clickhouse';
import { planBatch } from '../../sink-worker/src/events/batch-plan';
import { loadBenchConfig } from './support/bench-config';
import {
  BENCH_PORTS, Cleanup, runBench, benchBroker, benchEvents, clickhouseVersion, createBenchTenant, machineConditions, newRunId, startBenchServices,
  throwawayDatabase,
} from './support/bench-system';
import { chunk, runClosedLoop } from './support/load';
import { preflight } from './support/preflight';
import { counterValue, formatBenchTable, histogramValue, ms, perSecond, rate, ratio, scrapeMetrics, type Sample } from './support/stats';

const PRODUCE_BATCH = 1_000;
/** Live phase: events arrive at a steady rate, as from a collector, while the sink is caught up. */
const LIVE_EVENTS_PER_SECOND = 2_000;
const LIVE_SECONDS = 5;
const LIVE_SEND_EVERY_MS = 10;
const STORED_DEADLINE_MS = 60_000;
const POLL_MS = 100;

const cfg = loadBenchConfig();
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();

/**
 * `total` messages of which `duplicateRatio` are resends of an earlier event (same bytes, as a
 * client retry would produce), spread evenly through the stream; which event is resent is drawn
 * from a fixed-seed generator so runs compare.
 */
function workload(orgId: string, total: number, duplicateRatio: number) {
  const duplicates = Math.round(total * duplicateRatio);
  const unique = total - duplicates;
  const originals = benchEvents(orgId, unique).messages;
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const messages: Message[] = [];
  originals.forEach((message, i) => {
    messages.push(message);
    const copiesDue = Math.floor(((i + 1) * duplicates) / unique) - Math.floor((i * duplicates) / unique);
    for (let c = 0; c < copiesDue; c++) messages.push(originals[Math.floor(random() * (i + 1))] ?? message);
  });
  return { messages, unique, duplicates };
}

async function scalar(client: ClickHouseClient, query: string): Promise<number> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`gave up after ${deadlineMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function sinkCounters(samples: Sample[]) {
  const batch = histogramValue(samples, 'sink_batch_seconds');
  const duplicatesInBatch = counterValue(samples, 'sink_duplicates_dropped_total', { where: 'batch' });
  const duplicatesInStore = counterValue(samples, 'sink_duplicates_dropped_total', { where: 'store' });
  const written = counterValue(samples, 'sink_events_written_total');
  const deadLetters = counterValue(samples, 'sink_dead_letters_total');
  return {
    batches: batch.count,
    busySeconds: batch.sum,
    written,
    duplicatesInBatch,
    duplicatesInStore,
    deadLetters,
    storeErrors: counterValue(samples, 'sink_store_errors_total'),
    handled: written + duplicatesInBatch + duplicatesInStore + deadLetters,
  };
}

/** The sink's per-batch steps (decode and plan, probe, insert) in this process, timed apart. */
async function sinkStepsInProcess(client: ClickHouseClient, messages: Message[], batchSize: number) {
  const phases = { plan: 0, probe: 0, insert: 0 };
  let offset = 0;
  for (const batch of chunk(messages, batchSize)) {
    let t = performance.now();
    const plan = planBatch(batch.map((m) => ({ offset: String(offset++), value: m.value as Buffer })));
    phases.plan += performance.now() - t;
    t = performance.now();
    const existing = await eventsRaw.findExisting(client, plan.candidates.map((c) => c.row));
    phases.probe += performance.now() - t;
    t = performance.now();
    await eventsRaw.insert(client, plan.candidates.filter((c) => !existing.has(c.key)).map((c) => c.row));
    phases.insert += performance.now() - t;
  }
  return phases;
}

async function activeParts(client: ClickHouseClient, database: string): Promise<number> {
  return scalar(client, `SELECT count() AS n FROM system.parts WHERE database = ${sqlString(database)} AND table = 'events_raw' AND active`);
}

/**
 * Sends `messages` at a steady rate to a sink that is caught up, and reports what that rate turns
 * into on the ClickHouse side: how many batches (one probe and one INSERT each) and how big.
 */
async function livePhase(opts: {
  messages: Message[];
  send: (batch: Message[]) => Promise<unknown>;
  storedCount: () => Promise<number>;
  expectedStored: number;
  parts: () => Promise<number>;
}) {
  const before = sinkCounters(await scrapeMetrics(BENCH_PORTS.ops['sink-worker']));
  const perSend = Math.max(1, Math.round((LIVE_EVENTS_PER_SECOND * LIVE_SEND_EVERY_MS) / 1000));
  let peakParts = await opts.parts();
  const started = performance.now();
  for (const [i, batch] of chunk(opts.messages, perSend).entries()) {
    const due = started + i * LIVE_SEND_EVERY_MS;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    await opts.send(batch);
    if (i % 50 === 0) peakParts = Math.max(peakParts, await opts.parts());
  }
  const lastSent = performance.now();
  await until('the live events to be stored', STORED_DEADLINE_MS, async () => ((await opts.storedCount()) >= opts.expectedStored ? true : undefined));
  const stored = performance.now();
  const after = await until('the sink to account for the live messages', 30_000, async () => {
    const counters = sinkCounters(await scrapeMetrics(BENCH_PORTS.ops['sink-worker']));
    return counters.handled - before.handled >= opts.messages.length ? counters : undefined;
  });
  peakParts = Math.max(peakParts, await opts.parts());
  const seconds = (stored - started) / 1000;
  const batches = after.batches - before.batches;
  return {
    sentPerSecond: opts.messages.length / ((lastSent - started) / 1000),
    batches,
    batchesPerSecond: batches / seconds,
    messagesPerBatch: opts.messages.length / Math.max(1, batches),
    meanBatchMs: ((after.busySeconds - before.busySeconds) * 1000) / Math.max(1, batches),
    lagMs: stored - lastSent,
    peakParts,
  };
}

async function main(): Promise<string[]> {
  const { events: total, duplicateRatio } = cfg.sink;
  await preflight(cfg.stack, [BENCH_PORTS.ops['sink-worker'], BENCH_PORTS.usageGrpc]);
  console.log(`bench:sink run ${run}: ${total} messages, ~${Math.round(duplicateRatio * 100)}% duplicates`);
  console.log(`machine: ${machineConditions()}, ClickHouse ${await clickhouseVersion(cfg.stack)}`);

  const tenant = await createBenchTenant(cfg.stack, run, cleanup);
  const { admin, topics, produce } = await benchBroker(cfg.stack, run, cleanup);
  const sinkDb = await throwawayDatabase(cfg.stack, `bench_${run}_sink`, cleanup);
  const { messages, unique, duplicates } = workload(tenant.orgId, total, duplicateRatio);

  const produced = await runClosedLoop(chunk(messages, PRODUCE_BATCH), 4, cfg.scenarioCapMs, produce);
  if (produced.errors.length > 0 || produced.events !== total) {
    throw new Error(`producing the backlog failed (${produced.events}/${total} sent): ${produced.errors.slice(0, 3).join('; ')}`);
  }
  console.log(`backlog: ${total} messages (${unique} unique) on ${topics.events} (${topics.partitions} partitions) in ${ms(produced.elapsedMs)}`);

  // Fresh group on a fresh topic: the sink reads exactly this backlog and nothing of the real topic.
  const groupId = `polaris-bench-sink-${run}`;
  cleanup.add('delete consumer group', () => admin.deleteGroups([groupId])); // runs after the sink stops
  const spawned = performance.now();
  await startBenchServices(cfg.stack, ['sink-worker'], {
    'sink-worker': {
      CAPABILITIES: 'sink',
      KAFKA_GROUP_ID: groupId,
      KAFKA_CLIENT_ID: `polaris-bench-${run}`,
      EVENTS_TOPIC: topics.events,
      EVENTS_DLQ_TOPIC: topics.dlq,
      CLICKHOUSE_DATABASE: sinkDb.database,
    },
  }, cleanup);
  const ready = performance.now();
  const countSql = `SELECT count() AS n FROM events_raw WHERE namespace = ${sqlString(tenant.orgId)}`;
  await until('ClickHouse to hold every unique event', STORED_DEADLINE_MS, async () => ((await scalar(sinkDb.client, countSql)) >= unique ? true : undefined));
  const stored = performance.now();
  // Copies behind the last new event are still being dropped: wait until every message is accounted for.
  const sink = await until('the sink to account for every message', 30_000, async () => {
    const counters = sinkCounters(await scrapeMetrics(BENCH_PORTS.ops['sink-worker']));
    return counters.handled >= total ? counters : undefined;
  });

  const failures: string[] = [];
  const check = (what: string, actual: number, expected: number) => {
    if (actual !== expected) failures.push(`${what}: ${actual}, expected ${expected}`);
  };
  check('rows in events_raw', await scalar(sinkDb.client, countSql), unique);
  check('distinct identities in events_raw', await scalar(sinkDb.client, `SELECT uniqExact(source, id) AS n FROM events_raw WHERE namespace = ${sqlString(tenant.orgId)}`), unique);
  check('sink_events_written_total', sink.written, unique);
  check('sink_duplicates_dropped_total', sink.duplicatesInBatch + sink.duplicatesInStore, duplicates);
  check('sink_dead_letters_total', sink.deadLetters, 0);

  const liveLoad = workload(tenant.orgId, LIVE_EVENTS_PER_SECOND * LIVE_SECONDS, duplicateRatio);
  const live = await livePhase({
    messages: liveLoad.messages,
    send: produce,
    storedCount: () => scalar(sinkDb.client, countSql),
    expectedStored: unique + liveLoad.unique,
    parts: () => activeParts(sinkDb.client, sinkDb.database),
  });
  check('rows in events_raw after the live phase', await scalar(sinkDb.client, countSql), unique + liveLoad.unique);

  // Baselines, each in its own database migrated like the real one, batched like the sink was.
  const messagesPerBatch = Math.max(1, Math.round(total / Math.max(1, sink.batches)));
  const rowsPerBatch = Math.max(1, Math.round(sink.written / Math.max(1, sink.batches)));
  const rows = planBatch(messages.map((m, i) => ({ offset: String(i), value: m.value as Buffer }))).candidates.map((c) => c.row);
  const rawDb = await throwawayDatabase(cfg.stack, `bench_${run}_raw`, cleanup);
  let t = performance.now();
  for (const batch of chunk(rows, rowsPerBatch)) await rawDb.client.insert({ table: 'events_raw', values: batch, format: 'JSONEachRow' });
  const rawMs = performance.now() - t;
  check('rows in the baseline database', await scalar(rawDb.client, countSql), unique);

  const stepsDb = await throwawayDatabase(cfg.stack, `bench_${run}_steps`, cleanup);
  t = performance.now();
  const phases = await sinkStepsInProcess(stepsDb.client, messages, messagesPerBatch);
  const stepsMs = performance.now() - t;
  check('rows in the in-process steps database', await scalar(stepsDb.client, countSql), unique);

  const rawRate = perSecond(unique, rawMs);
  const sinkMs = stored - ready;
  const table = [
    ['raw JSONEachRow insert (baseline)', String(Math.ceil(unique / rowsPerBatch)), String(rowsPerBatch), ms(rawMs), rate(rawRate), '1.00x'],
    ['sink steps in-process (plan+probe+insert)', String(Math.ceil(total / messagesPerBatch)), String(messagesPerBatch), ms(stepsMs), rate(perSecond(unique, stepsMs)), ratio(perSecond(unique, stepsMs), rawRate)],
    ['sink-worker, ready → all stored', String(sink.batches), String(messagesPerBatch), ms(sinkMs), rate(perSecond(unique, sinkMs)), ratio(perSecond(unique, sinkMs), rawRate)],
  ];
  const share = (x: number) => `${ms(x)} (${Math.round((100 * x) / stepsMs)}%)`;
  console.log(`\nunique events stored per second; ${unique} unique of ${total} messages\n`);
  console.log(formatBenchTable(['scenario', 'batches', 'batch size', 'time', 'events/s', 'vs baseline'], table));
  console.log(`
sink-worker start (spawn → ready) ${ms(ready - spawned)}; spawn → all stored ${ms(stored - spawned)}
sink /metrics: sink_batch_seconds count ${sink.batches} batches, sum ${ms(sink.busySeconds * 1000)} (mean ${ms((sink.busySeconds * 1000) / Math.max(1, sink.batches))} per batch)
  mean batch: ${(total / Math.max(1, sink.batches)).toFixed(0)} messages, ${(sink.written / Math.max(1, sink.batches)).toFixed(0)} inserted rows
  duplicates dropped: ${sink.duplicatesInBatch + sink.duplicatesInStore} of ${duplicates} sent (in batch ${sink.duplicatesInBatch}, by store probe ${sink.duplicatesInStore}); dead letters ${sink.deadLetters}; store errors ${sink.storeErrors}
in-process steps: plan ${share(phases.plan)}, probe ${share(phases.probe)}, insert ${share(phases.insert)}

live: ${liveLoad.messages.length} messages at ${rate(live.sentPerSecond)}/s (${LIVE_SEND_EVERY_MS} ms apart) to the caught-up sink
  ${live.batches} batches = ${live.batchesPerSecond.toFixed(1)} probes + INSERTs per second, ${live.messagesPerBatch.toFixed(1)} messages each, ${ms(live.meanBatchMs)} per batch
  last send → all stored ${ms(live.lagMs)}; active parts of events_raw peaked at ${live.peakParts}`);
  return failures;
}

await runBench(main, cleanup);
