/**
 * bench:pipeline — the whole write path: CloudEvents POSTed to the collector, through the broker
 * and the sink-worker, until a ClickHouse query sees them. Measured in one run, on one machine:
 *
 * - raw produce: a stock kafkajs producer sending the same encoded messages (no collector);
 * - raw insert: the same rows as JSONEachRow inserts of SINK_FLUSH_MAX_EVENTS rows (no sink);
 * - sustained: BENCH_PIPELINE_EVENTS sent as fast as the collector takes them, timed from the
 *   first send until a count query sees every one; events/s ÷ the slower baseline;
 * - freshness: half that rate for BENCH_PIPELINE_FRESHNESS_SECONDS, each request's events tagged;
 *   from the collector's 202 until a query (polled every POLL_MS) counts all of them: p50/p99;
 * - the sink's peak RSS (VmHWM of its process);
 * - where the CPU went in each timed phase: per process group, ms per 1,000 events, and how busy
 *   the machine was (the stages share its two cores, so the pipeline's rate is bounded by their
 *   CPU added up, where each baseline is one stage alone).
 *
 * Visibility is asked of events_raw; the usage rollups are written by the same INSERT (their
 * materialized views run inside it), so an event is in a usage query at the same moment.
 * Prints ratios, never judges them: it fails only on errors and wrong counts.
 */
import type { Message } from 'kafkajs';
import { sqlString, type ClickHouseClient } from '@polaris/clickhouse';
import { normalizeCloudEvent, encodeEventMessage, eventMessageKey } from '@polaris/shared/contracts';
import { sampleEvents } from '../src/demo/sample-events';
import { loadBenchConfig } from './support/bench-config';
import { BENCH_PORTS, Cleanup, runBench, benchBroker, createBenchTenant, machineConditions, newRunId, startBenchServices, throwawayDatabase } from './support/bench-system';
import { chunk, httpPoster, runClosedLoop } from './support/load';
import { preflight } from './support/preflight';
import { cpuBetween, cpuSnapshot, pidsNamed, pidsNamedWith, type CpuGroup, type CpuUse } from './support/process-cpu';
import { mib, processMemory } from './support/process-memory';
import { plannedRows, scalar, until } from './support/sink-steps';
import { formatBenchTable, ms, perSecond, rate, ratio, summarize } from './support/stats';

const BATCH_CONTENT = 'application/cloudevents-batch+json';
/** Events per POST and POSTs in flight: batched clients, as the SDK sends. */
const EVENTS_PER_REQUEST = 100;
const CONCURRENCY = 8;
const PRODUCE_BATCH = 1_000;
/** The sink's default SINK_FLUSH_MAX_EVENTS: the raw insert baseline inserts rows in blocks of this many. */
const INSERT_BATCH = 20_000;
const POLL_MS = 50;
const STORED_DEADLINE_MS = 300_000;

const cfg = loadBenchConfig();
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();
const failures: string[] = [];
const check = (what: string, actual: number, expected: number) => {
  if (actual !== expected) failures.push(`${what}: ${actual}, expected ${expected}`);
};

/** `count` fresh CloudEvents whose ids start with `prefix`, as POST bodies of EVENTS_PER_REQUEST. */
function bodies(prefix: string, count: number, nowMs: number) {
  const events = sampleEvents(count, nowMs, 3_600_000).map((e, i) => ({ ...e, id: `${prefix}${String(Math.floor(i / EVENTS_PER_REQUEST)).padStart(7, '0')}-${i}` }));
  return { events, bodies: chunk(events, EVENTS_PER_REQUEST).map((c) => ({ text: JSON.stringify(c), count: c.length })) };
}

/** The broker messages the collector would write for `events` of `orgId`. */
function messagesOf(orgId: string, events: Record<string, unknown>[], nowMs: number): Message[] {
  return events.map((ce) => {
    const ev = normalizeCloudEvent(ce, nowMs);
    return { key: eventMessageKey(orgId, ev), value: encodeEventMessage(orgId, ev, nowMs) };
  });
}

/** SINK_FLUSH_* of this shell, handed to the sink: how the defaults were tuned (README, "Sink"). */
function flushOverrides(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('SINK_FLUSH_') && e[1] !== undefined));
}

async function rawInsert(rows: ReturnType<typeof plannedRows>) {
  const db = await throwawayDatabase(cfg.stack, `bench_${run}_rawins`, cleanup);
  const t = performance.now();
  for (const batch of chunk(rows, INSERT_BATCH)) await db.client.insert({ table: 'events_raw', values: batch, format: 'JSONEachRow' });
  const elapsed = performance.now() - t;
  check('rows in the raw insert database', await scalar(db.client, 'SELECT count() AS n FROM events_raw'), rows.length);
  return elapsed;
}

/**
 * Sends `requests` at `perSecond` events/s; per request, ms from the collector's 202 until a
 * query counts all its events (ids share the request's prefix, zero-padded so that a range on
 * id skips the requests already seen).
 */
async function freshness(client: ClickHouseClient, orgId: string, post: (text: string) => Promise<void>, prefix: string, requests: { text: string; count: number }[], perSecond: number) {
  const acceptedAt: number[] = [];
  const visibleAt: number[] = [];
  let sending = true;
  let lowest = 0;
  const tag = (r: number) => `${prefix}${String(r).padStart(7, '0')}`;
  const started = performance.now();
  const poller = (async () => {
    while (sending || lowest < requests.length) {
      const t = performance.now();
      const rs = await client.query({
        query: `SELECT substring(id, 1, ${prefix.length + 7}) AS r, count() AS n FROM events_raw WHERE namespace = ${sqlString(orgId)} AND id >= ${sqlString(tag(lowest))} AND id < ${sqlString(`${prefix}~`)} GROUP BY r`,
        format: 'JSONEachRow',
      });
      const seen = new Map((await rs.json<{ r: string; n: string }>()).map((x) => [x.r, Number(x.n)]));
      for (let r = lowest; r < requests.length; r++) {
        if (visibleAt[r] === undefined && acceptedAt[r] !== undefined && seen.get(tag(r)) === requests[r]?.count) visibleAt[r] = t;
      }
      while (lowest < requests.length && visibleAt[lowest] !== undefined) lowest++;
      if (performance.now() > started + STORED_DEADLINE_MS) throw new Error('freshness: events not visible in time');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  const everyMs = (1000 * EVENTS_PER_REQUEST) / perSecond;
  const inFlight: Promise<void>[] = [];
  for (const [r, body] of requests.entries()) {
    const due = started + r * everyMs;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    inFlight.push(post(body.text).then(() => void (acceptedAt[r] = performance.now())));
  }
  await Promise.all(inFlight);
  sending = false;
  await poller;
  return requests.map((_, r) => (visibleAt[r] as number) - (acceptedAt[r] as number));
}

/** CPU ms per 1,000 events of each group, and the machine's busy share, for one phase. */
function cpuRow(phase: string, use: CpuUse, events: number): string[] {
  const perThousand = (name: string) => {
    const seconds = use.groups.find((g) => g.name === name)?.seconds;
    return seconds === undefined ? '?' : ((seconds * 1000 * 1000) / events).toFixed(1);
  };
  const busy = use.machine && use.machine.total > 0 ? `${Math.round((100 * use.machine.busy) / use.machine.total)}%` : '?';
  return [phase, ...CPU_GROUP_NAMES.map(perThousand), busy];
}

const CPU_GROUP_NAMES = ['bench', 'collector', 'sink-worker', 'broker', 'clickhouse', 'rating-worker', 'redis'] as const;

async function main(): Promise<string[]> {
  const total = cfg.pipeline.events;
  await preflight(cfg.stack, [BENCH_PORTS.collector, BENCH_PORTS.ingestGrpc, BENCH_PORTS.identityGrpc, BENCH_PORTS.ops.collector, BENCH_PORTS.ops['sink-worker'], BENCH_PORTS.ops['rating-worker']]);
  console.log(`bench:pipeline run ${run}: ${total} events, ${EVENTS_PER_REQUEST} per request, ${CONCURRENCY} requests in flight; sink ${JSON.stringify(flushOverrides())}`);
  console.log(`machine at start: ${machineConditions()}`);

  const tenant = await createBenchTenant(cfg.stack, run, cleanup);
  const now = Date.now();

  // The pids of the services are known once they start; until then those groups are empty.
  const servicePids = new Map<string, number>();
  const cpuGroups: CpuGroup[] = CPU_GROUP_NAMES.map((name) => ({
    name,
    pids: () => {
      if (name === 'bench') return [process.pid];
      if (name === 'broker') return pidsNamed('java');
      if (name === 'clickhouse') return pidsNamedWith('clickhouse-serv', cfg.stack.stackDir);
      if (name === 'redis') return pidsNamed('redis-server');
      const pid = servicePids.get(name);
      return pid === undefined ? [] : [pid];
    },
  }));
  const cpuRows: string[][] = [];

  // Baselines first, on the quiet machine the pipeline will have too.
  let cpuBefore = cpuSnapshot(cpuGroups);
  const baseBroker = await benchBroker(cfg.stack, `${run}b`, cleanup);
  const baseEvents = bodies('b', total, now).events;
  const baseMessages = messagesOf(tenant.orgId, baseEvents, now);
  const produced = await runClosedLoop(chunk(baseMessages, PRODUCE_BATCH), 4, cfg.scenarioCapMs, baseBroker.produce);
  if (produced.errors.length > 0 || produced.events !== total) throw new Error(`raw produce failed: ${produced.errors.slice(0, 3).join('; ')}`);
  cpuRows.push(cpuRow('raw produce', cpuBetween(cpuBefore, cpuSnapshot(cpuGroups)), total));
  const rows = plannedRows(baseMessages);
  cpuBefore = cpuSnapshot(cpuGroups);
  const rawInsertMs = await rawInsert(rows);
  cpuRows.push(cpuRow('raw insert', cpuBetween(cpuBefore, cpuSnapshot(cpuGroups)), total));
  const produceRate = perSecond(total, produced.elapsedMs);
  const insertRate = perSecond(total, rawInsertMs);
  console.log(`raw produce ${rate(produceRate)}/s (${ms(produced.elapsedMs)}); raw insert ${rate(insertRate)}/s (${ms(rawInsertMs)}, blocks of ${INSERT_BATCH})`);

  const { topics } = await benchBroker(cfg.stack, run, cleanup);
  const db = await throwawayDatabase(cfg.stack, `bench_${run}_pipe`, cleanup);
  const groupId = `polaris-bench-pipeline-${run}`;
  const unrefusedLimit = { RATE_LIMIT_EVENTS_PER_SECOND: '100000000', RATE_LIMIT_BURST: '1000000000' };
  const system = await startBenchServices(
    cfg.stack,
    ['rating-worker', 'collector', 'sink-worker'],
    {
      collector: { EVENTS_TOPIC: topics.events, KAFKA_CLIENT_ID: `polaris-bench-${run}`, ...unrefusedLimit },
      'sink-worker': { ...flushOverrides(), CAPABILITIES: 'sink', KAFKA_GROUP_ID: groupId, KAFKA_CLIENT_ID: `polaris-bench-${run}-sink`, EVENTS_TOPIC: topics.events, EVENTS_DLQ_TOPIC: topics.dlq, CLICKHOUSE_DATABASE: db.database },
    },
    cleanup,
  );
  const sinkPid = system.services.find((s) => s.name === 'sink-worker')?.pid ?? -1;
  for (const svc of system.services) servicePids.set(svc.name, svc.pid);
  const poster = httpPoster(`http://127.0.0.1:${BENCH_PORTS.collector}/v1/events`, CONCURRENCY);
  cleanup.add('close http client', () => poster.close());
  const post = async (text: string) => {
    const res = await poster.post({ authorization: `Bearer ${tenant.apiKey}`, 'content-type': BATCH_CONTENT }, text);
    if (res.status !== 202) throw new Error(`collector answered ${res.status}: ${res.body.slice(0, 300)}`);
  };
  const countSql = `SELECT count() AS n FROM events_raw WHERE namespace = ${sqlString(tenant.orgId)}`;

  // Warm-up: JIT, connections, the sink's first flush.
  const warm = bodies('w', 2_000, now).bodies;
  await runClosedLoop(warm, CONCURRENCY, cfg.scenarioCapMs, async (b) => (await post(b.text), b.count));
  await until('the warm-up to be stored', STORED_DEADLINE_MS, async () => ((await scalar(db.client, countSql)) >= 2_000 ? true : undefined));

  const sustained = bodies('s', total, now).bodies;
  cpuBefore = cpuSnapshot(cpuGroups);
  const t0 = performance.now();
  const sent = await runClosedLoop(sustained, CONCURRENCY, cfg.scenarioCapMs, async (b) => (await post(b.text), b.count));
  if (sent.errors.length > 0 || sent.events !== total) throw new Error(`sending failed (${sent.events}/${total}): ${sent.errors.slice(0, 3).join('; ')}`);
  const allSentMs = performance.now() - t0;
  await until('every sustained event to be visible', STORED_DEADLINE_MS, async () => ((await scalar(db.client, countSql)) >= 2_000 + total ? true : undefined));
  const visibleMs = performance.now() - t0;
  cpuRows.push(cpuRow('collector → broker → sink → visible', cpuBetween(cpuBefore, cpuSnapshot(cpuGroups)), total));
  const pipelineRate = perSecond(total, visibleMs);
  const slower = Math.min(produceRate, insertRate);
  console.log(`sustained: ${total} events accepted in ${ms(allSentMs)} (${rate(perSecond(total, allSentMs))}/s), all visible after ${ms(visibleMs)}`);

  const halfRate = pipelineRate / 2;
  const freshCount = Math.max(EVENTS_PER_REQUEST, Math.round(halfRate * cfg.pipeline.freshnessSeconds));
  const fresh = bodies('f', freshCount, Date.now()).bodies;
  console.log(`freshness: ${freshCount} events at ${rate(halfRate)}/s for ${cfg.pipeline.freshnessSeconds} s …`);
  const lags = await freshness(db.client, tenant.orgId, post, 'f', fresh, halfRate);
  const lag = summarize(lags);
  const memory = processMemory(sinkPid);
  check('rows in events_raw', await scalar(db.client, countSql), 2_000 + total + freshCount);

  console.log(`\n${formatBenchTable(
    ['path', 'events', 'time', 'events/s', 'vs slower baseline'],
    [
      ['raw kafkajs produce (baseline)', String(total), ms(produced.elapsedMs), rate(produceRate), ratio(produceRate, slower)],
      [`raw JSONEachRow insert, blocks of ${INSERT_BATCH} (baseline)`, String(total), ms(rawInsertMs), rate(insertRate), ratio(insertRate, slower)],
      ['collector → broker → sink → visible', String(total), ms(visibleMs), rate(pipelineRate), ratio(pipelineRate, slower)],
    ],
  )}`);
  console.log(`
freshness at ${rate(halfRate)}/s (half the sustained rate), accepted (202) → visible in a query, per request of ${EVENTS_PER_REQUEST} (polled every ${POLL_MS} ms):
  p50 ${ms(lag.p50)}, p99 ${ms(lag.p99)}, max ${ms(lag.max)} over ${lags.length} requests
sink-worker peak RSS (VmHWM): ${mib(memory?.peakRssBytes)}; now ${mib(memory?.rssBytes)}

CPU ms per 1,000 events, by process, in each timed phase (bench = this process: the HTTP client or the baseline producer), and how busy all cores were:
${formatBenchTable(['phase', ...CPU_GROUP_NAMES, 'machine busy'], cpuRows)}`);
  return failures;
}

await runBench(main, cleanup);
