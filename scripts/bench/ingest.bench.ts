/**
 * bench:ingest — collector throughput and request latency over HTTP, against a raw kafkajs
 * producer sending the same encoded messages to the same topic with the same acks, measured in
 * the same run. Prints ratios, never judges them: it fails only on errors and wrong counts.
 */
import { loadBenchConfig } from './support/bench-config';
import {
  BENCH_PORTS, Cleanup, runBench, benchBroker, benchEvents, createBenchTenant, machineConditions, newRunId, startBenchServices, topicMessageCount,
} from './support/bench-system';
import { chunk, httpPoster, runClosedLoop, type LoadResult } from './support/load';
import { preflight } from './support/preflight';
import {
  counterValue, describeSecondsHistogram, formatBenchTable, histogramDelta, histogramValue, ms, perSecond, rate, ratio, scrapeMetrics, summarize,
  type Sample,
} from './support/stats';

const SINGLE = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const WARMUP_EVENTS = 2_000;

const cfg = loadBenchConfig();
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();

interface Row {
  scenario: string;
  batch: number;
  result: LoadResult;
  baselineRate?: number;
}

function sendSummary(before: Sample[], after: Sample[]): string {
  const ok = histogramDelta(histogramValue(after, 'collector_broker_send_seconds', { outcome: 'ok' }), histogramValue(before, 'collector_broker_send_seconds', { outcome: 'ok' }));
  const failed = counterValue(after, 'collector_broker_send_seconds_count', { outcome: 'error' }) - counterValue(before, 'collector_broker_send_seconds_count', { outcome: 'error' });
  const produced = counterValue(after, 'collector_events_produced_total') - counterValue(before, 'collector_events_produced_total');
  const perRequest = ok.count > 0 ? (produced / ok.count).toFixed(1) : '–';
  return `${describeSecondsHistogram(ok)}; ${perRequest} events per produce request; ${failed} failed`;
}

async function main(): Promise<string[]> {
  const { events: total, concurrency, batchSizes } = cfg.ingest;
  await preflight(cfg.stack, [BENCH_PORTS.collector, BENCH_PORTS.ingestGrpc, BENCH_PORTS.identityGrpc, BENCH_PORTS.ops.collector, BENCH_PORTS.ops['rating-worker']]);
  console.log(`bench:ingest run ${run}: ${total} events per scenario, concurrency ${concurrency}, batch sizes ${batchSizes.join(', ')}`);
  console.log(`machine: ${machineConditions()}`);

  const tenant = await createBenchTenant(cfg.stack, run, cleanup);
  const { admin, topics, produce } = await benchBroker(cfg.stack, run, cleanup);
  console.log(`topic ${topics.events} (${topics.partitions} partitions), org ${tenant.orgId}; starting rating-worker and collector …`);
  // The rate limit is counted (its Redis round trip is part of the path measured) but set far
  // above what the bench sends, so it never refuses.
  const unrefusedLimit = { RATE_LIMIT_EVENTS_PER_SECOND: '100000000', RATE_LIMIT_BURST: '1000000000' };
  await startBenchServices(cfg.stack, ['rating-worker', 'collector'], { collector: { EVENTS_TOPIC: topics.events, KAFKA_CLIENT_ID: `polaris-bench-${run}`, ...unrefusedLimit } }, cleanup);

  const poster = httpPoster(`http://127.0.0.1:${BENCH_PORTS.collector}/v1/events`, concurrency);
  cleanup.add('close http agent', async () => poster.close());
  const auth = { authorization: `Bearer ${tenant.apiKey}` };

  const viaCollector = async (body: { text: string; count: number; single: boolean }) => {
    const res = await poster.post({ ...auth, 'content-type': body.single ? SINGLE : BATCH }, body.text);
    if (res.status !== 202) throw new Error(`collector answered ${res.status}: ${res.body.slice(0, 300)}`);
    const accepted = (JSON.parse(res.body) as { accepted?: number }).accepted;
    if (accepted !== body.count) throw new Error(`collector accepted ${String(accepted)} of ${body.count} events`);
    return body.count;
  };
  // Bodies and messages are built before the clock starts: the client's own work is not measured.
  const workload = (count: number, batch: number) => {
    const { cloudEvents, messages } = benchEvents(tenant.orgId, count);
    return {
      bodies: chunk(cloudEvents, batch).map((c) => ({ text: JSON.stringify(batch === 1 ? c[0] : c), count: c.length, single: batch === 1 })),
      batches: chunk(messages, batch),
    };
  };

  let sent = 0;
  const failures: string[] = [];
  const record = (what: string, r: LoadResult) => {
    sent += r.events;
    for (const e of r.errors.slice(0, 3)) failures.push(`${what}: ${e}`);
    return r;
  };

  // Warm-up: connections, the API key cache, JIT; not reported.
  for (const batch of batchSizes) {
    const warm = workload(Math.ceil(WARMUP_EVENTS / batchSizes.length), batch);
    record('warm-up baseline', await runClosedLoop(warm.batches, concurrency, cfg.scenarioCapMs, produce));
    record('warm-up collector', await runClosedLoop(warm.bodies, concurrency, cfg.scenarioCapMs, viaCollector));
  }

  const rows: Row[] = [];
  const sendSummaries: string[] = [];
  for (const batch of batchSizes) {
    const load = workload(total, batch);
    const baseline = record(`baseline B=${batch}`, await runClosedLoop(load.batches, concurrency, cfg.scenarioCapMs, produce));
    rows.push({ scenario: 'kafkajs producer (baseline)', batch, result: baseline });
    const before = await scrapeMetrics(BENCH_PORTS.ops.collector);
    const collector = record(`collector B=${batch}`, await runClosedLoop(load.bodies, concurrency, cfg.scenarioCapMs, viaCollector));
    const after = await scrapeMetrics(BENCH_PORTS.ops.collector);
    rows.push({ scenario: 'collector POST /v1/events', batch, result: collector, baselineRate: perSecond(baseline.events, baseline.elapsedMs) });
    sendSummaries.push(`  B=${String(batch).padEnd(4)} ${sendSummary(before, after)}`);
  }

  const onTopic = await topicMessageCount(admin, topics.events);
  if (onTopic !== sent) failures.push(`the topic holds ${onTopic} messages, but ${sent} were acknowledged`);

  console.log(`\nclosed loop, ${concurrency} in flight, acks=-1, no compression, ${topics.partitions} partitions\n`);
  console.log(
    formatBenchTable(
      ['scenario', 'B', 'events', 'requests', 'events/s', 'p50', 'p99', 'vs baseline'],
      rows.map(({ scenario, batch, result, baselineRate }) => {
        const lat = summarize(result.latenciesMs);
        const eps = perSecond(result.events, result.elapsedMs);
        return [
          `${scenario}${result.capped ? ' (capped)' : ''}`,
          String(batch),
          String(result.events),
          String(result.requests),
          rate(eps),
          ms(lat.p50),
          ms(lat.p99),
          baselineRate === undefined ? '1.00x' : ratio(eps, baselineRate),
        ];
      }),
    ),
  );
  console.log(`\ncollector_broker_send_seconds{outcome="ok"} during each collector scenario (bucket bounds):\n${sendSummaries.join('\n')}`);
  console.log(`\ntopic holds ${onTopic} messages; ${sent} acknowledged (warm-up included)`);
  return failures;
}

await runBench(main, cleanup);
