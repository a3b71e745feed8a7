/**
 * bench:rating — rating one closed period of BENCH_RATING_SUBSCRIPTIONS subscriptions (default
 * 10,000: one customer and one subject each; a flat fee and three metered prices on a SUM, a
 * COUNT and a UNIQUE_COUNT meter) by real rating-worker processes, once per entry of
 * BENCH_RATING_WORKERS (default "1,2"), each process with RATING_CONCURRENCY =
 * BENCH_RATING_CONCURRENCY. Usage is generated straight into a throwaway ClickHouse database
 * (events_raw rows with meter values, so the rollups fill) and answered by a real sink-worker
 * (usage-api only); the catalog lives in a throwaway PostgreSQL database. A run is timed from the
 * moment every period becomes due, with the workers started and idle, until every invoice has
 * computed_at, both on the database's clock. Baseline in the same run: the same usage read with
 * one grouped query per meter and the same invoice rows inserted in bulk. Every invoice line is
 * checked against an expectation computed from the generated events. Prints, never judges time:
 * fails only on errors and wrong invoices.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { eventsRaw } from '@polaris/clickhouse';
import { RATING_QUEUE } from '../../rating-worker/src/rating/rating-queue';
import type { RunningSystem } from '../src/services/launcher';
import { loadBenchConfig } from './support/bench-config';
import { Cleanup, clickhouseVersion, machineConditions, newRunId, runBench, throwawayDatabase } from './support/bench-system';
import { chunk } from './support/load';
import { preflight } from './support/preflight';
import { cpuBetween, cpuSnapshot, type CpuUse } from './support/process-cpu';
import { baselineReads, baselineWrites } from './support/rating-baseline';
import { createRatingCatalog, invoiceLines, ratingProgress, releaseDue, resetAndHold, subscribeCustomers, benchPostgres } from './support/rating-catalog';
import { BENCH_CPU_GROUP, RATING_BENCH_PORTS as PORTS, ratingBenchPorts, ratingCpuGroups, startRatingWorkers, startUsageServices, workerOpsPort } from './support/rating-services';
import { centsText, eventRows, eventsOf, expectedInvoice, externalIdOf, lastClosedMonth, RATING_PRICE_KEYS, scaled, type ExpectedInvoice } from './support/rating-dataset';
import { counterValue, describeSecondsHistogram, formatBenchTable, histogramDelta, histogramValue, ms, rate, scrapeMetrics, type HistogramSnapshot, type Sample } from './support/stats';

const INSERT_ROWS = 20_000;
const POLL_MS = 250;
const PROGRESS_EVERY_MS = 5_000;

const cfg = loadBenchConfig();
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();
const failures: string[] = [];
const redisUrl = `redis://127.0.0.1:${cfg.stack.ports.redis}`;

const sleep = (msToWait: number) => new Promise((resolve) => setTimeout(resolve, msToWait));

async function pingRedis(): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 3_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`redis at ${redisUrl}: ${err instanceof Error ? err.message : String(err)} (start the stack: npx polaris stack up)`, { cause: err });
  } finally {
    redis.disconnect();
  }
}

interface Stores {
  pool: Awaited<ReturnType<typeof benchPostgres>>['pool'];
  postgresUrl: string;
  clickhouseDatabase: string;
}

interface World {
  organizationId: string;
  period: { startMs: number; endMs: number };
  /** By customer external id. */
  expected: Map<string, ExpectedInvoice>;
}

/** Histograms and counters the bench reads off the services' /metrics, summed over processes. */
async function scrapeAll(opsPorts: readonly number[]): Promise<Sample[]> {
  return (await Promise.all(opsPorts.map((p) => scrapeMetrics(p)))).flat();
}

/** Decimal text from the database in 10^-scale units; undefined for NULL or more digits than that. */
function unitsOf(text: string | null | undefined, scale: number): bigint | undefined {
  try {
    return text === null || text === undefined ? undefined : scaled(text, scale);
  } catch {
    return undefined;
  }
}
const equals = (text: string | null | undefined, scale: number, units: bigint): boolean => unitsOf(text, scale) === units;

/** Compares every invoice line with the expectation; one failure line per kind of mistake, with up to three examples. */
async function verify(stores: Stores, world: World, label: string): Promise<{ totalCents: bigint; expectedCents: bigint }> {
  const rows = await invoiceLines(stores.pool, world.organizationId);
  const problems: string[] = [];
  const byInvoice = new Map<string, typeof rows>();
  for (const r of rows) byInvoice.set(r.externalId, [...(byInvoice.get(r.externalId) ?? []), r]);
  let totalCents = 0n;
  let expectedCents = 0n;
  for (const [externalId, expected] of world.expected) {
    expectedCents += expected.totalCents;
    const lines = byInvoice.get(externalId);
    if (!lines) {
      problems.push(`${externalId}: no invoice`);
      continue;
    }
    const total = lines[0]?.total;
    if (total === null || total === undefined) {
      problems.push(`${externalId}: no total`);
      continue;
    }
    totalCents += unitsOf(total, 2) ?? 0n;
    if (!equals(total, 2, expected.totalCents)) problems.push(`${externalId}: total ${total}, expected ${centsText(expected.totalCents)}`);
    const keys = lines.map((l) => l.priceKey ?? '').sort();
    if (keys.join(',') !== [...RATING_PRICE_KEYS].sort().join(',')) problems.push(`${externalId}: lines ${keys.join(',')}`);
    for (const l of lines) {
      const want = expected.lines.get(l.priceKey ?? '');
      if (!want) continue;
      if (!equals(l.quantity, 3, want.quantityMilli)) problems.push(`${externalId} ${l.priceKey}: quantity ${l.quantity}, expected ${want.quantityMilli} milli`);
      if (!equals(l.amount, 2, want.cents)) problems.push(`${externalId} ${l.priceKey}: amount ${l.amount}, expected ${centsText(want.cents)}`);
    }
  }
  if (byInvoice.size !== world.expected.size) problems.push(`${byInvoice.size} invoices for ${world.expected.size} subscriptions`);
  if (problems.length > 0) failures.push(`${label}: ${problems.length} wrong (first: ${problems.slice(0, 3).join('; ')})`);
  return { totalCents, expectedCents };
}

interface RunResult {
  workers: number;
  wallMs: number;
  scanMs: number;
  spawnToReadyMs: number;
  jobs: HistogramSnapshot;
  failedAttempts: number;
  queryMeter: HistogramSnapshot;
  getMeter: HistogramSnapshot;
  cpu: CpuUse;
  totals: { totalCents: bigint; expectedCents: bigint };
}

/** One timed run with `workers` rating-worker processes, from a clean slate; they are stopped at its end. */
async function ratingRun(stores: Stores, world: World, workers: number, usage: RunningSystem): Promise<RunResult> {
  const { subscriptions: n, concurrency, runCapMs } = cfg.rating;
  await resetAndHold(stores.pool, world.organizationId);
  // A queue of its own per run: job ids are deterministic (rate.<subscription>.<period>), and
  // BullMQ would ignore this run's adds while the last run's completed jobs are kept.
  const prefix = `bench-rating-${run}-${workers}w`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = new Queue(RATING_QUEUE, { connection, prefix });
  const dropQueue = async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  };
  let dropped = false;
  cleanup.add(`obliterate queue ${prefix}`, () => (dropped ? Promise.resolve() : dropQueue()));

  const spawned = performance.now();
  const systems = await startRatingWorkers(cfg.stack, workers, { postgresUrl: stores.postgresUrl, redisUrl, queuePrefix: prefix, concurrency }, cleanup);
  const spawnToReadyMs = performance.now() - spawned;
  const workerOps = Array.from({ length: workers }, (_, i) => workerOpsPort(i));
  const start = Date.now();
  while ((await queue.getJobSchedulers()).length === 0) {
    if (Date.now() - start > 30_000) throw new Error('the rating-workers did not schedule their scan within 30 s');
    await sleep(100);
  }
  // Idle workers, a scan every second finding nothing: now the periods become due.
  const groups = ratingCpuGroups(systems, usage);
  const before = {
    workers: await scrapeAll(workerOps),
    sink: await scrapeAll([PORTS.ops['sink-worker']]),
    catalog: await scrapeAll([PORTS.ops['rating-worker']]),
    cpu: cpuSnapshot(groups),
  };
  const t0 = await releaseDue(stores.pool, world.organizationId, new Date(world.period.endMs), n);
  const deadline = performance.now() + runCapMs;
  let lastReport = performance.now();
  let progress = await ratingProgress(stores.pool, world.organizationId);
  while (progress.computed < n) {
    if (performance.now() > deadline) throw new Error(`${workers} worker(s): ${progress.computed} of ${n} invoices computed after ${ms(runCapMs)} (BENCH_RATING_RUN_CAP_MS)`);
    await sleep(POLL_MS);
    progress = await ratingProgress(stores.pool, world.organizationId);
    if (performance.now() - lastReport >= PROGRESS_EVERY_MS) {
      lastReport = performance.now();
      console.log(`  ${workers} worker(s): ${rate(progress.computed)} / ${rate(n)} computed (${rate(progress.invoices)} opened) after ${ms(Date.now() - t0.getTime())}`);
    }
  }
  const after = {
    workers: await scrapeAll(workerOps),
    sink: await scrapeAll([PORTS.ops['sink-worker']]),
    catalog: await scrapeAll([PORTS.ops['rating-worker']]),
    cpu: cpuSnapshot(groups),
  };
  // The workers' series, one per process, add up (histogramValue and counterValue sum over series).
  const jobs = histogramDelta(histogramValue(after.workers, 'rating_job_duration_seconds', { name: 'rate-period' }), histogramValue(before.workers, 'rating_job_duration_seconds', { name: 'rate-period' }));
  const failedAttempts =
    counterValue(after.workers, 'rating_jobs_total', { name: 'rate-period', outcome: 'failed' }) - counterValue(before.workers, 'rating_jobs_total', { name: 'rate-period', outcome: 'failed' });
  const queryMeter = histogramDelta(
    histogramValue(after.sink, 'grpc_server_handled_seconds', { method: 'polaris.v1.Usage/QueryMeter' }),
    histogramValue(before.sink, 'grpc_server_handled_seconds', { method: 'polaris.v1.Usage/QueryMeter' }),
  );
  const getMeter = histogramDelta(
    histogramValue(after.catalog, 'grpc_server_handled_seconds', { method: 'polaris.v1.Meters/GetMeter' }),
    histogramValue(before.catalog, 'grpc_server_handled_seconds', { method: 'polaris.v1.Meters/GetMeter' }),
  );
  const lastComputed = progress.lastComputed ?? new Date();
  const result: RunResult = {
    workers,
    wallMs: lastComputed.getTime() - t0.getTime(),
    scanMs: (progress.firstCreated ?? lastComputed).getTime() - t0.getTime(),
    spawnToReadyMs,
    jobs,
    failedAttempts,
    queryMeter,
    getMeter,
    cpu: cpuBetween(before.cpu, after.cpu),
    totals: await verify(stores, world, `${workers} worker(s)`),
  };
  if (progress.failedAttempts > 0) failures.push(`${workers} worker(s): ${progress.failedAttempts} invoices still carry a rating_error`);
  for (const system of systems) await system.stop();
  await dropQueue();
  dropped = true;
  return result;
}

function describeRun(r: RunResult, n: number): string {
  const perInvoice = (h: HistogramSnapshot) => (h.count / n).toFixed(2);
  const busy = (h: HistogramSnapshot) => `${ms(h.sum * 1000)} busy`;
  const cpuLines = r.cpu.groups
    .filter((g) => g.seconds > 0.005)
    .sort((a, b) => b.seconds - a.seconds)
    .map((g) => `    ${g.name}: ${g.seconds.toFixed(1)} s (${((g.seconds / (r.wallMs / 1000)) * 100).toFixed(0)}% of one core)`);
  const machine = r.cpu.machine;
  const listed = r.cpu.groups.reduce((s, g) => s + g.seconds, 0);
  return `${r.workers} worker(s) × RATING_CONCURRENCY ${cfg.rating.concurrency}: spawn → ready ${ms(r.spawnToReadyMs)}; due → first invoice opened ${ms(r.scanMs)}
  rate-period jobs: ${describeSecondsHistogram(r.jobs)}; ${r.failedAttempts} failed attempts
  Usage.QueryMeter (sink-worker, server side): ${describeSecondsHistogram(r.queryMeter)}; ${perInvoice(r.queryMeter)} per invoice, ${busy(r.queryMeter)}
  Meters.GetMeter (one per QueryMeter): ${describeSecondsHistogram(r.getMeter)}; ${busy(r.getMeter)}
  CPU over the run (${ms(r.wallMs)} × ${machine ? Math.round(machine.total / (r.wallMs / 1000)) : '?'} cores${machine ? `; machine busy ${((machine.busy / machine.total) * 100).toFixed(0)}%` : ''}):
${cpuLines.length > 0 ? cpuLines.join('\n') : '    (no /proc: not measured)'}${machine ? `\n    everything else on the machine (other engineers' tests, Kafka, …): ${Math.max(0, machine.busy - listed).toFixed(1)} s` : ''}`;
}

async function main(): Promise<string[]> {
  const { subscriptions: n, workers: workerCounts, concurrency } = cfg.rating;
  await preflight(cfg.stack, ratingBenchPorts(), ['postgres', 'clickhouse']);
  await pingRedis();
  const period = lastClosedMonth(new Date());
  console.log(
    `bench:rating run ${run}: ${rate(n)} subscriptions × 3 meters (SUM, COUNT, UNIQUE_COUNT) + a flat fee, period ` +
      `${new Date(period.startMs).toISOString().slice(0, 10)} → ${new Date(period.endMs).toISOString().slice(0, 10)} (UTC, calendar); ` +
      `rating-workers: ${workerCounts.join(', ')} process(es) × RATING_CONCURRENCY ${concurrency}`,
  );
  console.log(`machine: ${machineConditions()}, ClickHouse ${await clickhouseVersion(cfg.stack)}`);

  const name = `bench_${run}_rating`;
  const pg = await benchPostgres(cfg.stack, cleanup);
  const ch = await throwawayDatabase(cfg.stack, name, cleanup);
  // The rating-workers connect as the services do (the app role, under row-level security).
  const stores: Stores = { pool: pg.pool, postgresUrl: pg.appUrl, clickhouseDatabase: ch.database };

  let t = performance.now();
  const catalog = await createRatingCatalog(pg.pool, run);
  await subscribeCustomers(pg.pool, catalog.organizationId, n, new Date(period.startMs));
  console.log(`setup: ${rate(n)} customers and subscriptions through the repositories in ${ms(performance.now() - t)}`);

  t = performance.now();
  const expected = new Map<string, ExpectedInvoice>();
  const bySubject = new Map<string, ExpectedInvoice>();
  let events = 0;
  for (const rows of chunk(
    Array.from({ length: n }, (_, i) => i),
    Math.ceil(INSERT_ROWS / 4),
  )) {
    const generated = rows.map((i) => ({ i, events: eventsOf(i, period) }));
    for (const g of generated) {
      const invoice = expectedInvoice(g.events);
      expected.set(externalIdOf(g.i), invoice);
      bySubject.set(g.events[0]?.subject ?? '', invoice);
    }
    const eventList = generated.flatMap((g) => g.events);
    await eventsRaw.insert(ch.client, eventRows(catalog.organizationId, eventList, catalog.meterVersionIds));
    events += eventList.length;
  }
  console.log(`setup: ${rate(events)} events (${(events / n).toFixed(1)} per subject, 3 meter values each) into ${ch.database} in ${ms(performance.now() - t)}`);
  const world: World = { organizationId: catalog.organizationId, period, expected };

  // Baseline: the reads and writes of the whole period, in bulk.
  const reads = await baselineReads(ch.client, { organizationId: catalog.organizationId, meterVersionIds: catalog.meterVersionIds, period, expected: bySubject });
  if (reads.mismatches.length > 0) failures.push(`ClickHouse does not hold the generated usage: ${reads.mismatches.join('; ')}`);
  const { rows: subs } = await pg.pool.query<{ customerId: string; subscriptionId: string; externalId: string }>(
    `SELECT s.customer_id AS "customerId", s.id AS "subscriptionId", c.external_id AS "externalId"
       FROM subscriptions s JOIN customers c ON c.id = s.customer_id AND c.organization_id = s.organization_id WHERE s.organization_id = $1`,
    [catalog.organizationId],
  );
  const writes = await baselineWrites(pg.pool, {
    organizationId: catalog.organizationId,
    planVersionId: catalog.planVersionId,
    period,
    invoices: subs.map((s) => ({ customerId: s.customerId, subscriptionId: s.subscriptionId, expected: expected.get(s.externalId) ?? expectedInvoice([]) })),
  });
  const baselineMs = reads.ms + writes.ms;
  console.log(
    `baseline: 3 grouped usage queries (${rate(reads.rows)} rows) in ${ms(reads.ms)}; ${rate(writes.invoices)} invoices + ${rate(writes.lines)} lines + ` +
      `${rate(2 * writes.invoices)} history rows inserted in ${ms(writes.ms)}`,
  );

  const usage = await startUsageServices(cfg.stack, stores, cleanup);

  const results: RunResult[] = [];
  for (const workers of workerCounts) {
    console.log(`\nrun with ${workers} rating-worker process(es):`);
    const r = await ratingRun(stores, world, workers, usage);
    console.log(describeRun(r, n));
    results.push(r);
  }

  const one = results.find((r) => r.workers === 1) ?? results[0];
  const perSecond = (r: RunResult) => n / (r.wallMs / 1000);
  console.log(`\n${rate(n)} invoices, one period; times from "every period due" to the last computed_at (database clock)\n`);
  const machine = (r: RunResult) => (r.cpu.machine ? `${Math.round((100 * r.cpu.machine.busy) / r.cpu.machine.total)}%` : '?');
  // CPU the rating path used (the services, the stores' servers, Redis), per invoice: what more
  // workers cannot reduce, only spread over more cores.
  const cpuPerInvoice = (r: RunResult) =>
    r.cpu.machine ? `${((r.cpu.groups.filter((g) => g.name !== BENCH_CPU_GROUP).reduce((s, g) => s + g.seconds, 0) / n) * 1000).toFixed(1)} ms` : '?';
  const others = (r: RunResult) => (r.cpu.machine ? `${Math.max(0, r.cpu.machine.busy - r.cpu.groups.reduce((s, g) => s + g.seconds, 0)).toFixed(1)} s` : '?');
  console.log(
    formatBenchTable(
      ['scenario', 'time', 'invoices/s', '÷ baseline time', 'vs 1 worker', 'Usage queries/invoice', 'CPU/invoice', 'machine busy', 'CPU of others'],
      [
        ['baseline: 3 grouped reads + bulk INSERTs', ms(baselineMs), rate(n / (baselineMs / 1000)), '1.0x', '–', (3 / n).toFixed(4), '–', '–', '–'],
        ...results.map((r) => [
          `${r.workers} rating-worker(s) × concurrency ${concurrency}`,
          ms(r.wallMs),
          rate(perSecond(r)),
          `${(r.wallMs / baselineMs).toFixed(1)}x`,
          one ? `${(perSecond(r) / perSecond(one)).toFixed(2)}x` : '–',
          (r.queryMeter.count / n).toFixed(2),
          cpuPerInvoice(r),
          machine(r),
          others(r),
        ]),
      ],
    ),
  );
  console.log(
    '("CPU/invoice": CPU of the rating-workers, the sink-worker, the Meters rating-worker and the PostgreSQL, ClickHouse and Redis servers\n' +
      ' (whole servers: other suites\' queries included) per invoice; "CPU of others": the rest of the machine\'s busy CPU, e.g. other test suites)',
  );
  const expectedSum = results[0]?.totals.expectedCents ?? 0n;
  console.log(
    `\ncorrectness: every invoice's ${RATING_PRICE_KEYS.length} lines (quantity and amount) and total compared with the expectation computed from the generated events; ` +
      `Σ totals ${results.map((r) => `${r.workers} worker(s) ${centsText(r.totals.totalCents)}`).join(', ')} (expected ${centsText(expectedSum)} USD)`,
  );
  console.log(`goal (issue 10, reported, not enforced): ${rate(n)} in ≤ 60 s: ${results.map((r) => `${r.workers} worker(s) ${r.wallMs <= 60_000 ? 'met' : 'NOT met'}`).join(', ')}`);
  console.log(`÷ baseline time: how many times longer the rating takes than reading the same usage (one grouped query per meter) and inserting the same rows in bulk from one client`);
  return failures;
}

await runBench(main, cleanup);
