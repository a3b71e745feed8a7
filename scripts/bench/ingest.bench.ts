/**
 * bench:ingest — collector throughput and request latency over HTTP, against a stock kafkajs
 * producer (DefaultPartitioner, same acks and compression) sending the same encoded messages to
 * the same topic, measured in the same run. Each scenario runs BENCH_INGEST_ROUNDS times, the
 * collector right after its baseline each time, so both see the same machine; the ratio is taken
 * per round and its median printed with the spread. Also where the CPU went (this process, the
 * collector, the broker, Redis) and the collector's RSS. Prints ratios, never judges them: it
 * fails only on errors and wrong counts.
 */
import { loadBenchConfig } from './support/bench-config';
import {
  BENCH_PORTS, Cleanup, runBench, benchBroker, benchEvents, createBenchTenant, machineConditions, newRunId, startBenchServices, topicMessageCount,
} from './support/bench-system';
import { chunk, httpPoster, runClosedLoop, type LoadResult } from './support/load';
import { preflight } from './support/preflight';
import { cpuBetween, cpuSnapshot, pidsNamed, type CpuGroup, type CpuUse } from './support/process-cpu';
import { mib, processMemory, sampleRss } from './support/process-memory';
import {
  counterValue, describeSecondsHistogram, formatBenchTable, histogramDelta, histogramValue, ms, perSecond, rate, scrapeMetrics, summarize,
  type HistogramSnapshot, type Sample,
} from './support/stats';

const SINGLE = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const WARMUP_EVENTS = 2_000;

const cfg = loadBenchConfig();
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();

/** One timed closed loop, with the CPU each process group spent meanwhile. */
interface Measured {
  result: LoadResult;
  cpu: CpuUse;
}

interface Round {
  baseline: Measured;
  collector: Measured;
  /** The collector's highest RSS sampled during its loop. */
  collectorPeakRss: number | undefined;
}

interface Scenario {
  batch: number;
  rounds: Round[];
  /** Broker sends of the collector over every round (collector_broker_send_seconds, ok). */
  sends: HistogramSnapshot;
  produced: number;
  failedSends: number;
}

const eventsPerSecond = (m: Measured) => perSecond(m.result.events, m.result.elapsedMs);
const roundRatio = (r: Round) => eventsPerSecond(r.collector) / eventsPerSecond(r.baseline);
const x = (value: number) => `${value.toFixed(2)}x`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "4,120 (3,980 – 4,310)": the median over rounds and the spread. */
function withSpread(values: readonly number[], format: (v: number) => string): string {
  if (values.length === 1) return format(values[0] as number);
  return `${format(median(values))} (${format(Math.min(...values))} – ${format(Math.max(...values))})`;
}

/** CPU milliseconds a group spent per 1,000 events, over every round of one side of a scenario. */
function cpuPerThousand(measured: readonly Measured[], group: string): string {
  const events = measured.reduce((n, m) => n + m.result.events, 0);
  const seconds = measured.reduce((s, m) => s + (m.cpu.groups.find((g) => g.name === group)?.seconds ?? 0), 0);
  return events > 0 ? `${((seconds * 1_000 * 1_000) / events).toFixed(1)} ms` : '–';
}

/** Share of the machine's CPU busy during the loops (100% = every core). */
function machineBusy(measured: readonly Measured[]): string {
  const busy = measured.reduce((s, m) => s + (m.cpu.machine?.busy ?? 0), 0);
  const total = measured.reduce((s, m) => s + (m.cpu.machine?.total ?? 0), 0);
  return total > 0 ? `${Math.round((100 * busy) / total)}%` : '?';
}

async function main(): Promise<string[]> {
  const { events, batchedEvents, rounds, compression, concurrency, batchSizes } = cfg.ingest;
  await preflight(cfg.stack, [BENCH_PORTS.collector, BENCH_PORTS.ingestGrpc, BENCH_PORTS.identityGrpc, BENCH_PORTS.ops.collector, BENCH_PORTS.ops['rating-worker']]);
  console.log(
    `bench:ingest run ${run}: ${events} events per scenario in 1-event requests, ${batchedEvents} in batched ones, ${rounds} rounds, concurrency ${concurrency}, batch sizes ${batchSizes.join(', ')}`,
  );
  console.log(`machine at start: ${machineConditions()}`);

  const tenant = await createBenchTenant(cfg.stack, run, cleanup);
  const { admin, topics, produce } = await benchBroker(cfg.stack, run, cleanup, compression);
  console.log(`topic ${topics.events} (${topics.partitions} partitions), org ${tenant.orgId}; starting rating-worker and collector …`);
  // The rate limit is counted (its Redis round trip is part of the path measured) but set far
  // above what the bench sends, so it never refuses.
  const unrefusedLimit = { RATE_LIMIT_EVENTS_PER_SECOND: '100000000', RATE_LIMIT_BURST: '1000000000' };
  const system = await startBenchServices(
    cfg.stack,
    ['rating-worker', 'collector'],
    { collector: { EVENTS_TOPIC: topics.events, KAFKA_CLIENT_ID: `polaris-bench-${run}`, PUBLISH_COMPRESSION: compression, ...unrefusedLimit } },
    cleanup,
  );
  const collectorPid = system.services.find((s) => s.name === 'collector')?.pid ?? -1;
  const cpuGroups: CpuGroup[] = [
    { name: 'bench', pids: () => [process.pid] },
    { name: 'collector', pids: () => [collectorPid] },
    { name: 'broker', pids: () => pidsNamed('java') },
    { name: 'redis', pids: () => pidsNamed('redis-server') },
  ];

  const poster = httpPoster(`http://127.0.0.1:${BENCH_PORTS.collector}/v1/events`, concurrency);
  cleanup.add('close http client', () => poster.close());
  const auth = { authorization: `Bearer ${tenant.apiKey}` };

  const viaCollector = async (body: { text: string; count: number; single: boolean }) => {
    const res = await poster.post({ ...auth, 'content-type': body.single ? SINGLE : BATCH }, body.text);
    if (res.status !== 202) throw new Error(`collector answered ${res.status}: ${res.body.slice(0, 300)}`);
    const accepted = (JSON.parse(res.body) as { accepted?: number }).accepted;
    if (accepted !== body.count) throw new Error(`collector accepted ${String(accepted)} of ${body.count} events`);
    return body.count;
  };
  // Bodies and messages are built before the clock starts: the client's own work is not measured.
  // Fresh events each time (new ids), as real traffic.
  const workload = (count: number, batch: number) => {
    const { cloudEvents, messages } = benchEvents(tenant.orgId, count);
    return {
      bodies: chunk(cloudEvents, batch).map((c) => ({ text: JSON.stringify(batch === 1 ? c[0] : c), count: c.length, single: batch === 1 })),
      batches: chunk(messages, batch),
    };
  };

  let sent = 0;
  const failures: string[] = [];
  const measure = async <T>(what: string, items: readonly T[], send: (item: T) => Promise<number>): Promise<Measured> => {
    const before = cpuSnapshot(cpuGroups);
    const result = await runClosedLoop(items, concurrency, cfg.scenarioCapMs, send);
    const cpu = cpuBetween(before, cpuSnapshot(cpuGroups));
    sent += result.events;
    for (const e of result.errors.slice(0, 3)) failures.push(`${what}: ${e}`);
    return { result, cpu };
  };

  // Warm-up: connections, the API key cache, JIT; not reported.
  for (const batch of batchSizes) {
    const warm = workload(Math.ceil(WARMUP_EVENTS / batchSizes.length), batch);
    await measure('warm-up baseline', warm.batches, produce);
    await measure('warm-up collector', warm.bodies, viaCollector);
  }
  const rssAfterWarmup = processMemory(collectorPid)?.rssBytes;

  const scenarios: Scenario[] = [];
  for (const batch of batchSizes) {
    const scenario: Scenario = { batch, rounds: [], sends: { buckets: [], count: 0, sum: 0 }, produced: 0, failedSends: 0 };
    for (let round = 1; round <= rounds && failures.length === 0; round++) {
      const load = workload(batch === 1 ? events : batchedEvents, batch);
      const baseline = await measure(`baseline B=${batch} round ${round}`, load.batches, produce);
      const before = await scrapeMetrics(BENCH_PORTS.ops.collector);
      const rss = sampleRss(collectorPid);
      const collector = await measure(`collector B=${batch} round ${round}`, load.bodies, viaCollector);
      const collectorPeakRss = rss.stop();
      addSends(scenario, before, await scrapeMetrics(BENCH_PORTS.ops.collector));
      scenario.rounds.push({ baseline, collector, collectorPeakRss });
      console.log(`  B=${batch} round ${round}: baseline ${rate(eventsPerSecond(baseline))}/s, collector ${rate(eventsPerSecond(collector))}/s, ${x(roundRatio({ baseline, collector, collectorPeakRss }))}`);
    }
    scenarios.push(scenario);
  }
  const memoryAtEnd = processMemory(collectorPid);

  const onTopic = await topicMessageCount(admin, topics.events);
  if (onTopic !== sent) failures.push(`the topic holds ${onTopic} messages, but ${sent} were acknowledged`);

  console.log(`\nclosed loop, ${concurrency} in flight, acks=-1, compression ${compression}, ${topics.partitions} partitions; median of ${rounds} rounds (min – max)\n`);
  const sides = (s: Scenario) =>
    [
      ['kafkajs producer (baseline)', s.rounds.map((r) => r.baseline), undefined],
      ['collector POST /v1/events', s.rounds.map((r) => r.collector), s.rounds.map(roundRatio)],
    ] as const;
  console.log(
    formatBenchTable(
      ['scenario', 'B', 'events/s', 'p50', 'p99', 'vs baseline'],
      scenarios.flatMap((s) =>
        sides(s).map(([name, measured, ratios]) => {
          const lat = summarize(measured.flatMap((m) => m.result.latenciesMs));
          const capped = measured.some((m) => m.result.capped) ? ' (capped)' : '';
          return [`${name}${capped}`, String(s.batch), withSpread(measured.map(eventsPerSecond), rate), ms(lat.p50), ms(lat.p99), ratios ? withSpread(ratios, x) : '1.00x'];
        }),
      ),
    ),
  );

  console.log('\nCPU per 1,000 events, every round (bench = this process: the HTTP client, or the baseline producer itself):\n');
  console.log(
    formatBenchTable(
      ['scenario', 'B', 'bench', 'collector', 'broker', 'redis', 'machine busy'],
      scenarios.flatMap((s) =>
        sides(s).map(([name, measured]) => [
          name,
          String(s.batch),
          ...cpuGroups.map((g) => cpuPerThousand(measured, g.name)),
          machineBusy(measured),
        ]),
      ),
    ),
  );

  console.log(`\ncollector_broker_send_seconds{outcome="ok"} during the collector's loops (bucket bounds):`);
  for (const s of scenarios) {
    const perRequest = s.sends.count > 0 ? (s.produced / s.sends.count).toFixed(1) : '–';
    console.log(`  B=${String(s.batch).padEnd(4)} ${describeSecondsHistogram(s.sends)}; ${perRequest} events per produce request; ${s.failedSends} failed`);
  }

  const peaks = scenarios.map((s) => `${mib(Math.max(...s.rounds.map((r) => r.collectorPeakRss ?? 0)))} with B=${s.batch}`);
  console.log(
    `\ncollector RSS: ${mib(rssAfterWarmup)} after the warm-up; highest sampled ${peaks.join(', ')}; ${mib(memoryAtEnd?.rssBytes)} at the end (peak since start ${mib(memoryAtEnd?.peakRssBytes)})`,
  );
  console.log('\ncollector ÷ raw producer, events/s, median of the rounds (each round):');
  for (const s of scenarios) {
    const ratios = s.rounds.map(roundRatio);
    console.log(`  ${`${s.batch}-event requests:`.padEnd(22)} ${x(median(ratios))} (${ratios.map(x).join(', ')})`);
  }
  console.log(`\ntopic holds ${onTopic} messages; ${sent} acknowledged (warm-up included)`);
  console.log(`machine at end: ${machineConditions()}`);
  return failures;
}

function addSends(scenario: Scenario, before: Sample[], after: Sample[]): void {
  const ok = histogramDelta(histogramValue(after, 'collector_broker_send_seconds', { outcome: 'ok' }), histogramValue(before, 'collector_broker_send_seconds', { outcome: 'ok' }));
  const sum = new Map(scenario.sends.buckets.map((b) => [b.le, b.count]));
  scenario.sends = {
    buckets: ok.buckets.map((b) => ({ le: b.le, count: b.count + (sum.get(b.le) ?? 0) })),
    count: scenario.sends.count + ok.count,
    sum: scenario.sends.sum + ok.sum,
  };
  scenario.failedSends += counterValue(after, 'collector_broker_send_seconds_count', { outcome: 'error' }) - counterValue(before, 'collector_broker_send_seconds_count', { outcome: 'error' });
  scenario.produced += counterValue(after, 'collector_events_produced_total') - counterValue(before, 'collector_events_produced_total');
}

await runBench(main, cleanup);
