/**
 * bench:sink — end-to-end sink throughput: a backlog of events (with client-retry duplicates) on
 * the topic, then a fresh sink-worker, timed until ClickHouse holds every unique event. Twice in
 * one run: for a tenant without meters, and for one with BENCH_SINK_METERS meters on each event
 * type (every row stamped with that many values, which the materialized views roll up). The
 * sink syncs its catalog from a real rating-worker. Baselines in the same run: raw JSONEachRow
 * inserts of the same rows, plain and stamped, in batches of the size the sink used, and the
 * sink's steps in this process. Prints ratios, never judges them: it fails only on errors and
 * wrong counts.
 */
import type { Message } from 'kafkajs';
import { eventsRaw, sqlString, type ClickHouseClient, type EventsRawRow } from '@polaris/clickhouse';
import { loadBenchConfig } from './support/bench-config';
import { benchMeters, benchMeterSnapshot, createBenchMeters } from './support/bench-meters';
import {
  BENCH_PORTS, Cleanup, runBench, benchBroker, benchEvents, clickhouseVersion, createBenchTenant, machineConditions, newRunId, startBenchServices,
  throwawayDatabase,
} from './support/bench-system';
import { chunk, runClosedLoop } from './support/load';
import { preflight } from './support/preflight';
import { probeAgainstHistory, type ProbeTiming } from './support/probe-history';
import { plannedRows, scalar, sinkCounters, sinkStepsInProcess, until, type SinkCounters } from './support/sink-steps';
import { formatBenchTable, ms, perSecond, rate, ratio, scrapeMetrics } from './support/stats';

const PRODUCE_BATCH = 1_000;
/** Live phase: events arrive at a steady rate, as from a collector, while the sink is caught up. */
const LIVE_EVENTS_PER_SECOND = 2_000;
const LIVE_SECONDS = 5;
const LIVE_SEND_EVERY_MS = 10;
const STORED_DEADLINE_MS = 120_000;
/** The largest partition batch the sink makes from a backlog (4 MiB per partition fetch). */
const PROBE_BATCH = 7_000;
const DEDUP_WINDOW_DAYS = 37;

const cfg = loadBenchConfig();
/** Probe against history: events already stored for the org before a batch is probed (BENCH_SINK_PROBE_HISTORY). */
const PROBE_HISTORY = cfg.sink.probeHistory;
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();
const failures: string[] = [];
const check = (what: string, actual: number, expected: number) => {
  if (actual !== expected) failures.push(`${what}: ${actual}, expected ${expected}`);
};
const scrapeSink = async () => sinkCounters(await scrapeMetrics(BENCH_PORTS.ops['sink-worker']));

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
type Workload = ReturnType<typeof workload>;

async function activeParts(client: ClickHouseClient, database: string): Promise<number> {
  return scalar(client, `SELECT count() AS n FROM system.parts WHERE database = ${sqlString(database)} AND table = 'events_raw' AND active`);
}

/**
 * One sink run: the workload as a backlog on topics of its own, a fresh sink-worker in a fresh
 * group and database, timed from ready until every unique event is stored and every message
 * accounted for. The sink keeps running (for the live phase); `stop` ends it.
 */
async function sinkRun(label: string, orgId: string, load: Workload, metersPerType: number) {
  const id = `${run}${label}`;
  const { admin, topics, produce } = await benchBroker(cfg.stack, id, cleanup);
  const db = await throwawayDatabase(cfg.stack, `bench_${id}_sink`, cleanup);
  const total = load.messages.length;
  const produced = await runClosedLoop(chunk(load.messages, PRODUCE_BATCH), 4, cfg.scenarioCapMs, produce);
  if (produced.errors.length > 0 || produced.events !== total) {
    throw new Error(`producing the backlog failed (${produced.events}/${total} sent): ${produced.errors.slice(0, 3).join('; ')}`);
  }
  console.log(`backlog ${label}: ${total} messages (${load.unique} unique) on ${topics.events} (${topics.partitions} partitions) in ${ms(produced.elapsedMs)}`);

  // Fresh group on a fresh topic: the sink reads exactly this backlog and nothing of the real topic.
  const groupId = `polaris-bench-sink-${id}`;
  cleanup.add('delete consumer group', () => admin.deleteGroups([groupId])); // runs after the sink stops
  const spawned = performance.now();
  const sink = await startBenchServices(cfg.stack, ['sink-worker'], {
    'sink-worker': {
      CAPABILITIES: 'sink',
      KAFKA_GROUP_ID: groupId,
      KAFKA_CLIENT_ID: `polaris-bench-${id}`,
      EVENTS_TOPIC: topics.events,
      EVENTS_DLQ_TOPIC: topics.dlq,
      CLICKHOUSE_DATABASE: db.database,
    },
  }, cleanup);
  const ready = performance.now();
  const countSql = `SELECT count() AS n FROM events_raw WHERE namespace = ${sqlString(orgId)}`;
  await until('ClickHouse to hold every unique event', STORED_DEADLINE_MS, async () => ((await scalar(db.client, countSql)) >= load.unique ? true : undefined));
  const stored = performance.now();
  // Copies behind the last new event are still being dropped: wait until every message is accounted for.
  const counters = await until('the sink to account for every message', 30_000, async () => {
    const c = await scrapeSink();
    return c.handled >= total ? c : undefined;
  });

  const where = `namespace = ${sqlString(orgId)}`;
  check(`${label}: rows in events_raw`, await scalar(db.client, countSql), load.unique);
  check(`${label}: distinct identities in events_raw`, await scalar(db.client, `SELECT uniqExact(source, id) AS n FROM events_raw WHERE ${where}`), load.unique);
  check(`${label}: rows stamped with ${metersPerType} meter values`, await scalar(db.client, `SELECT count() AS n FROM events_raw WHERE ${where} AND length(meter_version_ids) = ${metersPerType} AND catalog_revision > 0`), load.unique);
  check(`${label}: events counted by the day rollup`, await scalar(db.client, `SELECT countMerge(event_count) AS n FROM meter_usage_per_day_v1 WHERE ${where}`), load.unique * metersPerType);
  check(`${label}: sink_events_written_total`, counters.written, load.unique);
  check(`${label}: sink_duplicates_dropped_total`, counters.duplicatesInBatch + counters.duplicatesInStore, load.duplicates);
  check(`${label}: sink_dead_letters_total`, counters.deadLetters, 0);
  check(`${label}: sink_meter_values_total{result="invalid"}`, counters.meterValuesInvalid, 0);
  return { label, load, db, produce, countSql, counters, spawnToReadyMs: ready - spawned, sinkMs: stored - ready, stop: () => sink.stop() };
}
type SinkRun = Awaited<ReturnType<typeof sinkRun>>;

/**
 * Sends `messages` at a steady rate to a sink that is caught up, and reports what that rate turns
 * into on the ClickHouse side: how many batches (one probe and one INSERT each) and how big.
 */
async function livePhase(sink: SinkRun, orgId: string) {
  const load = workload(orgId, LIVE_EVENTS_PER_SECOND * LIVE_SECONDS, cfg.sink.duplicateRatio);
  const before = await scrapeSink();
  const parts = () => activeParts(sink.db.client, sink.db.database);
  const perSend = Math.max(1, Math.round((LIVE_EVENTS_PER_SECOND * LIVE_SEND_EVERY_MS) / 1000));
  let peakParts = await parts();
  const started = performance.now();
  for (const [i, batch] of chunk(load.messages, perSend).entries()) {
    const due = started + i * LIVE_SEND_EVERY_MS;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    await sink.produce(batch);
    if (i % 50 === 0) peakParts = Math.max(peakParts, await parts());
  }
  const lastSent = performance.now();
  const expectedStored = sink.load.unique + load.unique;
  await until('the live events to be stored', STORED_DEADLINE_MS, async () => ((await scalar(sink.db.client, sink.countSql)) >= expectedStored ? true : undefined));
  const stored = performance.now();
  const after = await until('the sink to account for the live messages', 30_000, async () => {
    const c = await scrapeSink();
    return c.handled - before.handled >= load.messages.length ? c : undefined;
  });
  peakParts = Math.max(peakParts, await parts());
  check('rows in events_raw after the live phase', await scalar(sink.db.client, sink.countSql), expectedStored);
  const batches = after.batches - before.batches;
  return {
    messages: load.messages.length,
    sentPerSecond: load.messages.length / ((lastSent - started) / 1000),
    batches,
    batchesPerSecond: batches / ((stored - started) / 1000),
    messagesPerBatch: load.messages.length / Math.max(1, batches),
    meanBatchMs: ((after.busySeconds - before.busySeconds) * 1000) / Math.max(1, batches),
    lagMs: stored - lastSent,
    peakParts,
  };
}

/**
 * Raw inserts of `rows` in batches of `rowsPerBatch` into a fresh database migrated like the real
 * one. Serialized beforehand as eventsRaw.insert sends them (decimals as bare JSON numbers, which
 * is how 18.16 reads them), so only the inserts are timed.
 */
async function rawInserts(name: string, rows: EventsRawRow[], rowsPerBatch: number, expected: number, countSql: string) {
  const values = eventsRaw.insertStatement(rows).values;
  const db = await throwawayDatabase(cfg.stack, `bench_${run}_${name}`, cleanup);
  const t = performance.now();
  for (const batch of chunk(values, rowsPerBatch)) await db.client.insert({ table: 'events_raw', values: batch, format: 'JSONEachRow' });
  const elapsed = performance.now() - t;
  check(`rows in the ${name} database`, await scalar(db.client, countSql), expected);
  return elapsed;
}

function describeSink(s: SinkRun, meters: number): string {
  const c: SinkCounters = s.counters;
  const total = s.load.messages.length;
  return `sink-worker, ${meters === 0 ? 'no meters' : `${meters} meters per event type`}: start (spawn → ready) ${ms(s.spawnToReadyMs)}, catalog revision ${c.catalogRevision}
  sink_batch_seconds count ${c.batches} batches, sum ${ms(c.busySeconds * 1000)} (mean ${ms((c.busySeconds * 1000) / Math.max(1, c.batches))} per batch)
  mean batch: ${(total / Math.max(1, c.batches)).toFixed(0)} messages, ${(c.written / Math.max(1, c.batches)).toFixed(0)} inserted rows
  duplicates dropped: ${c.duplicatesInBatch + c.duplicatesInStore} of ${s.load.duplicates} sent (in batch ${c.duplicatesInBatch}, by store probe ${c.duplicatesInStore}); dead letters ${c.deadLetters}; store errors ${c.storeErrors}
  sink_meter_values_total: ${c.meterValuesValid} valid, ${c.meterValuesInvalid} invalid`;
}

async function main(): Promise<string[]> {
  const { events: total, duplicateRatio, meters: perType } = cfg.sink;
  if (cfg.sink.only === 'probe') {
    console.log(`bench:sink run ${run}: the probe section only (BENCH_SINK_ONLY=probe)`);
    console.log(`machine: ${machineConditions()}, ClickHouse ${await clickhouseVersion(cfg.stack)}`);
    await probeHistorySection();
    return failures;
  }
  await preflight(cfg.stack, [BENCH_PORTS.ops['sink-worker'], BENCH_PORTS.usageGrpc, BENCH_PORTS.ops['rating-worker'], BENCH_PORTS.identityGrpc]);
  console.log(`bench:sink run ${run}: ${total} messages, ~${Math.round(duplicateRatio * 100)}% duplicates; without meters, then with ${perType} meters per event type`);
  console.log(`machine: ${machineConditions()}, ClickHouse ${await clickhouseVersion(cfg.stack)}`);

  // Two tenants: one without meters, one with `perType` on each event type of the traffic.
  const plain = await createBenchTenant(cfg.stack, `${run}p`, cleanup);
  const metered = await createBenchTenant(cfg.stack, `${run}m`, cleanup);
  const meterList = benchMeters(perType);
  await createBenchMeters(cfg.stack, metered.orgId, meterList);
  // The sink stores nothing without a catalog lease, which the rating-worker grants.
  await startBenchServices(cfg.stack, ['rating-worker'], {}, cleanup);

  const plainLoad = workload(plain.orgId, total, duplicateRatio);
  const plainSink = await sinkRun('p', plain.orgId, plainLoad, 0);
  const live = await livePhase(plainSink, plain.orgId);
  await plainSink.stop();
  const meteredLoad = workload(metered.orgId, total, duplicateRatio);
  const meteredSink = await sinkRun('m', metered.orgId, meteredLoad, perType);
  await meteredSink.stop();
  check('m: sink_meter_values_total{result="valid"}', meteredSink.counters.meterValuesValid, meteredLoad.unique * perType);

  // Baselines, each in its own database migrated like the real one, batched like the sink was.
  const batchOf = (s: SinkRun) => ({
    messages: Math.max(1, Math.round(total / Math.max(1, s.counters.batches))),
    rows: Math.max(1, Math.round(s.counters.written / Math.max(1, s.counters.batches))),
  });
  const snapshot = benchMeterSnapshot(metered.orgId, meterList);
  const plainBatch = batchOf(plainSink);
  const meteredBatch = batchOf(meteredSink);
  const rawMs = await rawInserts('raw', plannedRows(plainLoad.messages), plainBatch.rows, plainLoad.unique, plainSink.countSql);
  const rawMeteredMs = await rawInserts('rawm', plannedRows(meteredLoad.messages, snapshot), meteredBatch.rows, meteredLoad.unique, meteredSink.countSql);
  const stepsDb = await throwawayDatabase(cfg.stack, `bench_${run}_steps`, cleanup);
  let t = performance.now();
  const phases = await sinkStepsInProcess(stepsDb.client, plainLoad.messages, plainBatch.messages);
  const stepsMs = performance.now() - t;
  check('rows in the in-process steps database', await scalar(stepsDb.client, plainSink.countSql), plainLoad.unique);
  const stepsMeteredDb = await throwawayDatabase(cfg.stack, `bench_${run}_stepsm`, cleanup);
  t = performance.now();
  const meteredPhases = await sinkStepsInProcess(stepsMeteredDb.client, meteredLoad.messages, meteredBatch.messages, snapshot);
  const stepsMeteredMs = performance.now() - t;
  check('rows in the in-process steps database (meters)', await scalar(stepsMeteredDb.client, meteredSink.countSql), meteredLoad.unique);

  const unique = plainLoad.unique;
  const rawRate = perSecond(unique, rawMs);
  const row = (scenario: string, meters: number, batches: number, batchSize: number, elapsed: number) => {
    const r = perSecond(unique, elapsed);
    return { r, cells: [scenario, String(meters), String(batches), String(batchSize), ms(elapsed), rate(r), ratio(r, rawRate)] };
  };
  const rows = {
    raw: row('raw JSONEachRow insert (baseline)', 0, Math.ceil(unique / plainBatch.rows), plainBatch.rows, rawMs),
    rawMetered: row('raw JSONEachRow insert, rows stamped', perType, Math.ceil(unique / meteredBatch.rows), meteredBatch.rows, rawMeteredMs),
    steps: row('sink steps in-process (plan+probe+insert)', 0, Math.ceil(total / plainBatch.messages), plainBatch.messages, stepsMs),
    stepsMetered: row('sink steps in-process (plan+probe+stamp+insert)', perType, Math.ceil(total / meteredBatch.messages), meteredBatch.messages, stepsMeteredMs),
    sink: row('sink-worker, ready → all stored', 0, plainSink.counters.batches, plainBatch.messages, plainSink.sinkMs),
    sinkMetered: row('sink-worker, ready → all stored', perType, meteredSink.counters.batches, meteredBatch.messages, meteredSink.sinkMs),
  };
  const share = (x: number, of: number) => `${ms(x)} (${Math.round((100 * x) / of)}%)`;
  console.log(`\nunique events stored per second; ${unique} unique of ${total} messages per run; meters = per event type, so per row\n`);
  console.log(formatBenchTable(['scenario', 'meters', 'batches', 'batch size', 'time', 'events/s', 'vs baseline'], Object.values(rows).map((r) => r.cells)));
  console.log(`
with ${perType} meters ÷ without: sink-worker ${ratio(rows.sinkMetered.r, rows.sink.r)}, in-process steps ${ratio(rows.stepsMetered.r, rows.steps.r)}, raw insert ${ratio(rows.rawMetered.r, rows.raw.r)}

${describeSink(plainSink, 0)}
${describeSink(meteredSink, perType)}
in-process steps, no meters: plan ${share(phases.plan, stepsMs)}, probe ${share(phases.probe, stepsMs)}, insert ${share(phases.insert, stepsMs)}
in-process steps, ${perType} meters: plan ${share(meteredPhases.plan, stepsMeteredMs)}, probe ${share(meteredPhases.probe, stepsMeteredMs)}, stamp ${share(meteredPhases.stamp, stepsMeteredMs)}, insert ${share(meteredPhases.insert, stepsMeteredMs)}

live (no meters): ${live.messages} messages at ${rate(live.sentPerSecond)}/s (${LIVE_SEND_EVERY_MS} ms apart) to the caught-up sink
  ${live.batches} batches = ${live.batchesPerSecond.toFixed(1)} probes + INSERTs per second, ${live.messagesPerBatch.toFixed(1)} messages each, ${ms(live.meanBatchMs)} per batch
  last send → all stored ${ms(live.lagMs)}; active parts of events_raw peaked at ${live.peakParts}`);
  if (PROBE_HISTORY.length > 0) await probeHistorySection();
  return failures;
}

/** The probe's time per batch of PROBE_BATCH identities with more and more history (support/probe-history.ts). */
async function probeHistorySection(): Promise<void> {
  console.log(
    `\nprobe of a ${PROBE_BATCH}-identity batch vs history stored for the org (median of 5; history made by INSERT … SELECT FROM numbers() in 1 M-row chunks; ` +
      `inside the window timed just loaded and after up to ${ms(cfg.sink.settleMs)} of merging; parts = active parts of the probe table in the months probed)`,
  );
  const timings: ProbeTiming[] = [];
  for (const window of cfg.sink.probeWindows) {
    const db = await throwawayDatabase(cfg.stack, `bench_${run}_probe_${window}`, cleanup);
    timings.push(...(await probeAgainstHistory(db.client, `${run}-probe-${window}`, PROBE_HISTORY, window, { batchSize: PROBE_BATCH, windowDays: DEDUP_WINDOW_DAYS, settleMs: cfg.sink.settleMs, log: (l) => console.log(l) })));
    await db.client.command({ query: `DROP DATABASE IF EXISTS ${db.database}` }); // ~4 GB at 100 M: not kept until the end
  }
  const base = (w: ProbeTiming['window']) => timings.find((t) => t.window === w && t.stored === Math.min(...PROBE_HISTORY));
  console.log(formatBenchTable(
    [
      'history received', 'events stored', 'merges', 'parts', 'probe alone (half stored)', 'vs least', 'filter + probe (half stored)', 'vs least',
      'filter + probe (1% stored)', 'vs least', 'maybe of 1%', 'filter rebuild', 'filter MB', 'old probe (events_raw)',
    ],
    timings.map((t) => {
      const b = base(t.window) ?? t;
      return [
        `${t.window} the window`, String(t.stored), t.merges, String(t.partsProbed), ms(t.sinkProbeMs), ratio(t.sinkProbeMs, b.sinkProbeMs), ms(t.filteredMs),
        ratio(t.filteredMs, b.filteredMs), ms(t.filteredFewMs), ratio(t.filteredFewMs, b.filteredFewMs), String(t.maybeFew), ms(t.rebuildMs),
        (t.filterBytes / 1e6).toFixed(1), t.oldProbeMs === undefined ? '-' : ms(t.oldProbeMs),
      ];
    }),
  ));
}

await runBench(main, cleanup);
