/**
 * bench:usage — meter usage answers from the rollups (meterUsage.query) against the same answers
 * computed from raw events (meterUsage.queryRaw: events_raw FINAL, arrays ARRAY JOINed), on a
 * history of BENCH_USAGE_EVENTS events (default 50 million: 10,000 subjects over 90 days, one SUM
 * meter by model) generated inside ClickHouse into a throwaway database migrated like the real
 * one, so the materialized views fill the rollups as they do in production. Prints latencies,
 * ratios and table sizes, never judges them: it fails only on errors and on answers that differ.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { clickhouseConfigSchema, createClickHouseReader, sqlString, type ClickHouseClient, type ClickHouseReader } from '@polaris/clickhouse';
import { loadBenchConfig } from './support/bench-config';
import { Cleanup, clickhouseVersion, machineConditions, newRunId, runBench, throwawayDatabase } from './support/bench-system';
import { preflight } from './support/preflight';
import { formatBenchTable, ms, percentile, perSecond, rate, timeRuns } from './support/stats';
import { mebibytes, runningMerges, tableSizes } from './support/table-sizes';
import { loadUsageDataset, usageDataset, type UsageDataset } from './support/usage-dataset';
import { rawQuery, rollupQuery, usageScenarios, type UsageScenario } from './support/usage-scenarios';

/** Untimed runs before the timed ones: the first answers pay for cold caches and connections. */
const ROLLUP_WARMUP = 2;
/** A reference over the read cap (b') is timed this many times at most: each answer is 900,000 rows. */
const OVER_CAP_RUNS = 5;
/** Background merges after the load get this long to finish before the queries are timed. */
const SETTLE_CAP_MS = 20 * 60_000;

const cfg = loadBenchConfig();
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();

async function scalar(client: ClickHouseClient, query: string): Promise<string> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return String((await rs.json<{ n: string }>())[0]?.n);
}

/** Waits until no merge runs on the database (twice in a row, a second apart), or the cap. */
async function settleMerges(client: ClickHouseClient, database: string): Promise<{ ms: number; settled: boolean }> {
  const started = performance.now();
  let quiet = 0;
  while (performance.now() - started < SETTLE_CAP_MS) {
    quiet = (await runningMerges(client, database)) === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return { ms: performance.now() - started, settled: true };
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return { ms: performance.now() - started, settled: false };
}

/** The largest memory one load chunk used on the server (system.query_log), when the server logs queries. */
async function peakChunkMemory(client: ClickHouseClient, queryIdPrefix: string): Promise<string> {
  try {
    await client.command({ query: 'SYSTEM FLUSH LOGS' });
    const peak = await scalar(
      client,
      `SELECT toString(max(memory_usage)) AS n FROM system.query_log WHERE type = 2 AND query_id LIKE ${sqlString(`${queryIdPrefix}%`)}`,
    );
    return Number(peak) > 0 ? mebibytes(Number(peak)) : 'not logged';
  } catch (err) {
    return `unknown (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

async function load(client: ClickHouseClient, ds: UsageDataset) {
  const queryIdPrefix = `bench-usage-${run}-`;
  const started = performance.now();
  const chunks = await loadUsageDataset(
    // log_queries: the peak memory of each INSERT is then in system.query_log.
    (query, chunk) => client.command({ query, query_id: `${queryIdPrefix}${chunk}`, clickhouse_settings: { log_queries: 1 } }),
    ds,
    cfg.usage.chunkRows,
    (inserted) => console.log(`  ${rate(inserted)} / ${rate(ds.events)} events (${Math.round((100 * inserted) / ds.events)}%) in ${ms(performance.now() - started)}`),
  );
  return { loadMs: performance.now() - started, chunks, peakMemory: await peakChunkMemory(client, queryIdPrefix) };
}

/** Times one question on the rollups (through `reads`) and on raw events (through `raw`), and compares the answers. */
async function measure(scenario: UsageScenario, reads: ClickHouseReader, raw: ClickHouseReader) {
  const runs = scenario.overReadCap ? Math.min(OVER_CAP_RUNS, cfg.usage.runs) : cfg.usage.runs;
  process.stdout.write(`\n${scenario.name}: rollups ${runs} runs …`);
  const rollup = await timeRuns(runs, ROLLUP_WARMUP, () => scenario.ask(rollupQuery, reads));
  process.stdout.write(` raw ${cfg.usage.rawRuns} runs …`);
  // No warm-up: each raw run reads every event of the range; the median absorbs a cold first one.
  const fromRaw = await timeRuns(cfg.usage.rawRuns, 0, () => scenario.ask(rawQuery, raw));
  const same = isDeepStrictEqual(rollup.answer.value, fromRaw.answer.value);
  const r = [...rollup.latenciesMs].sort((a, b) => a - b);
  const w = [...fromRaw.latenciesMs].sort((a, b) => a - b);
  const p50 = percentile(r, 0.5);
  const p95 = percentile(r, 0.95);
  const rawP50 = percentile(w, 0.5);
  const speedup = rawP50 / p50;
  // Each result as soon as it is known: a run cut short still leaves what it measured.
  process.stdout.write(` p50 ${ms(p50)}, p95 ${ms(p95)}; raw p50 ${ms(rawP50)} (${speedup.toFixed(1)}x); ${same ? 'same answer' : 'ANSWERS DIFFER'}`);
  const row = [scenario.name, rate(rollup.answer.rows), String(runs), ms(p50), ms(p95), String(w.length), ms(rawP50), ms(w.at(-1) ?? Number.NaN), `${speedup.toFixed(1)}x`, same ? 'yes' : 'NO'];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const goal =
    scenario.goalP95Ms === undefined
      ? undefined
      : `${scenario.name}: p95 ${ms(p95)} (goal ≤ ${scenario.goalP95Ms} ms: ${met(p95 <= scenario.goalP95Ms)}); raw ÷ rollup ${speedup.toFixed(1)}x (goal ≥ 20x: ${met(speedup >= 20)})`;
  return { same, row, goal };
}

async function main(): Promise<string[]> {
  await preflight(cfg.stack, [], ['clickhouse']);
  const ds = usageDataset(randomUUID(), cfg.usage.events);
  const days = (ds.toMs - ds.fromMs) / 86_400_000;
  console.log(
    `bench:usage run ${run}: ${rate(ds.events)} events, ${rate(ds.subjects)} subjects, ${days} days ` +
      `(${new Date(ds.fromMs).toISOString().slice(0, 10)} → ${new Date(ds.toMs).toISOString().slice(0, 10)}), one SUM meter by model`,
  );
  console.log(`machine: ${machineConditions()}, ClickHouse ${await clickhouseVersion(cfg.stack)}`);

  const db = await throwawayDatabase(cfg.stack, `bench_${run}_usage`, cleanup);
  const connection = { url: cfg.stack.clickhouse.url, username: cfg.stack.clickhouse.username, password: cfg.stack.clickhouse.password };
  // For the load, the raw answers and the answer over the read cap: no row cap, long requests.
  const unbounded = createClient({ ...connection, database: db.database, request_timeout: 3_600_000, log: { level: ClickHouseLogLevel.OFF } });
  cleanup.add('close the unbounded client', () => unbounded.close());
  // The rollup answers go through the Usage API's own read client: read-only, 10 s, 20,000 rows.
  const reads = createClickHouseReader(
    clickhouseConfigSchema.parse({ CLICKHOUSE_URL: connection.url, CLICKHOUSE_DATABASE: db.database, CLICKHOUSE_USER: connection.username, CLICKHOUSE_PASSWORD: connection.password }),
  );
  cleanup.add('close the read client', () => reads.close());

  console.log(`\nloading into ${db.database} (INSERT INTO events_raw SELECT … FROM numbers(), ${rate(cfg.usage.chunkRows)} rows per INSERT):`);
  const loaded = await load(unbounded, ds);
  const settle = await settleMerges(unbounded, db.database);
  console.log(
    `load: ${loaded.chunks} INSERTs in ${ms(loaded.loadMs)} (${rate(perSecond(ds.events, loaded.loadMs))} events/s, peak server memory of one INSERT ${loaded.peakMemory}); ` +
      `background merges ${settle.settled ? 'settled' : 'still running'} after ${ms(settle.ms)}`,
  );

  const failures: string[] = [];
  const check = (what: string, actual: string, expected: string) => {
    if (actual !== expected) failures.push(`${what}: ${actual}, expected ${expected}`);
  };
  check('events in events_raw', await scalar(unbounded, 'SELECT toString(count()) AS n FROM events_raw'), String(ds.events));
  check('events counted by the day rollup', await scalar(unbounded, 'SELECT toString(countMerge(event_count)) AS n FROM meter_usage_per_day_v1'), String(ds.events));

  const sizes = await tableSizes(unbounded, db.database);
  console.log(`\ntables (active parts, after the merges):\n`);
  console.log(
    formatBenchTable(
      ['table', 'rows', 'rows per event', 'on disk', 'uncompressed', 'parts'],
      sizes.filter((t) => t.table !== 'schema_migrations').map((t) => [t.table, rate(t.rows), (t.rows / ds.events).toFixed(3), mebibytes(t.bytesOnDisk), mebibytes(t.uncompressedBytes), String(t.parts)]),
    ),
  );

  console.log(`
questions (SUM, UTC windows; the last 30 days are ${new Date(ds.toMs - 30 * 86_400_000).toISOString().slice(0, 10)} → ${new Date(ds.toMs).toISOString().slice(0, 10)}):
  (a)  one subject's hourly usage over the last 30 days (720 windows)
  (b)  the top 100 subjects by 90-day total and their daily usage: meterUsage.query has no top-N, so the
       90-day totals of every subject (one query) are ranked here, then one query for the top 100's days
  (b') the same from one query of every subject's daily usage (subjects × 90 rows, over the read client's
       20,000-row cap, so asked without it), ranked here: what a top-N in the query would save
  (c)  every subject's total over the last 30 days (one row per subject)`);
  const results: string[][] = [];
  const goals: string[] = [];
  for (const scenario of usageScenarios(ds)) {
    const measured = await measure(scenario, scenario.overReadCap ? unbounded : reads, unbounded);
    if (!measured.same) failures.push(`${scenario.name}: the rollups' answer differs from the raw one`);
    results.push(measured.row);
    if (measured.goal) goals.push(measured.goal);
  }
  console.log(`\n\nlatency of each answer (rollups: ${ROLLUP_WARMUP} warm-up runs, then timed; raw: timed from the first run)\n`);
  console.log(formatBenchTable(['scenario', 'rows', 'runs', 'p50', 'p95', 'raw runs', 'raw p50', 'raw max', 'raw ÷ rollup (p50)', 'same answer'], results));
  console.log(`\ngoals (reported, not enforced):\n  ${goals.join('\n  ')}`);
  console.log(`\nrollup answers through the Usage API's read client (readonly, 10 s, 20,000 rows), (b') and raw through a client without the row cap`);
  return failures;
}

await runBench(main, cleanup);
