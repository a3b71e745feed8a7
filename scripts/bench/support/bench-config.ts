import { z } from 'zod';
import { CliError } from '@polaris/cli';
import { loadDevConfig, type DevConfig } from '../../src/config';

const count = (fallback: number, max: number) => z.coerce.number().int().positive().max(max).default(fallback);

// The only place the benches read the environment; the stack's addresses come from the developer
// CLI's config, so a bench talks to the same stack as `polaris migrate`. Loads are capped: this
// runs on 2-core developer machines and CI, next to the stack itself.
const envSchema = z.object({
  /** bench:ingest: events per scenario sent in 1-event requests … */
  BENCH_INGEST_EVENTS: count(20_000, 200_000),
  /** … and in batched requests, which go ~15x faster: a scenario lasts a few seconds either way. */
  BENCH_INGEST_BATCHED_EVENTS: count(200_000, 2_000_000),
  /** bench:ingest: each scenario runs this often, the collector right after its baseline each time. */
  BENCH_INGEST_ROUNDS: count(3, 20),
  /** bench:ingest: the collector's PUBLISH_COMPRESSION (its default), and the baseline producer's codec. */
  BENCH_INGEST_COMPRESSION: z.enum(['none', 'gzip']).default('none'),
  BENCH_INGEST_CONCURRENCY: count(32, 256),
  BENCH_INGEST_BATCH_SIZES: z
    .string()
    .default('1,100')
    .transform((s) => s.split(',').map((b) => Number(b.trim())))
    .pipe(z.array(z.number().int().min(1).max(1_000)).min(1)),
  BENCH_SINK_EVENTS: count(50_000, 500_000),
  /** bench:sink: `probe` runs only the probe-against-history section (no sink runs, ~1 minute less a round). */
  BENCH_SINK_ONLY: z.enum(['all', 'probe']).default('all'),
  /**
   * bench:sink: events already stored for the org before a batch is probed, cumulative, comma-separated
   * (`none` skips the section; an empty variable counts as unset). 100 M rows take ClickHouse about
   * 10 minutes to make on 2 cores, and ~4 GB of disk.
   */
  BENCH_SINK_PROBE_HISTORY: z
    .string()
    .default('0,20000000,100000000')
    .transform((s) => (s.trim() === 'none' ? [] : s.split(',').filter((n) => n.trim() !== '').map((n) => Number(n.trim()))))
    .pipe(z.array(z.number().int().min(0).max(200_000_000))),
  /** bench:sink: which history the probe section loads: received before the dedup window, inside it, or both (comma-separated). */
  BENCH_SINK_PROBE_WINDOWS: z
    .string()
    .default('before,inside')
    .transform((s) => s.split(',').map((w) => w.trim()))
    .pipe(z.array(z.enum(['before', 'inside'])).min(1)),
  /** bench:sink: how long the probe section waits, after loading history, for the probe table's merges to settle (0: not at all). */
  BENCH_SINK_SETTLE_MS: z.coerce.number().int().min(0).max(1_800_000).default(300_000),
  BENCH_SINK_DUPLICATE_RATIO: z.coerce.number().min(0).max(0.5).default(0.1),
  /** Meters defined for each event type of the bench's traffic in bench:sink's metered run. */
  BENCH_SINK_METERS: count(10, 50),
  /** Events generated inside ClickHouse for bench:usage (10,000 subjects over 90 days). */
  BENCH_USAGE_EVENTS: count(50_000_000, 200_000_000),
  /** Rows per `INSERT … SELECT … FROM numbers()`: what 18.16's materialized views handle on 2 cores. */
  BENCH_USAGE_CHUNK_ROWS: count(2_000_000, 10_000_000),
  /** Timed runs per rollup query, after a warm-up; the raw queries (slow) get fewer. */
  BENCH_USAGE_RUNS: count(20, 1_000),
  BENCH_USAGE_RAW_RUNS: count(3, 100),
  /** Each load loop stops by itself after this long, finished or not. */
  BENCH_SCENARIO_CAP_MS: count(30_000, 120_000),
  /** bench:rating: subscriptions (one customer and one subject each) rated for one period. */
  BENCH_RATING_SUBSCRIPTIONS: count(10_000, 100_000),
  /** bench:rating: one timed run per entry, with that many rating-worker processes. */
  BENCH_RATING_WORKERS: z
    .string()
    .default('1,2')
    .transform((s) => s.split(',').map((n) => Number(n.trim())))
    .pipe(z.array(z.number().int().min(1).max(8)).min(1)),
  /**
   * bench:rating: RATING_CONCURRENCY of each rating-worker (jobs one process runs at once). 32, not
   * the service's 8: more reads in flight make bigger usage batches (0.2 Usage queries per invoice
   * instead of 0.6 at 1,000 subscriptions).
   */
  BENCH_RATING_CONCURRENCY: count(32, 1_000),
  /** bench:pipeline: events sent through collector → broker → sink → ClickHouse for the sustained rate (and to each baseline). */
  BENCH_PIPELINE_EVENTS: count(100_000, 10_000_000),
  /** bench:pipeline: how long the freshness phase sends at half the sustained rate, seconds. */
  BENCH_PIPELINE_FRESHNESS_SECONDS: count(20, 600),
  /** bench:rating: a run that has not computed every invoice after this long fails. */
  BENCH_RATING_RUN_CAP_MS: count(900_000, 3_600_000),
});

export interface BenchConfig {
  stack: DevConfig;
  ingest: { events: number; batchedEvents: number; rounds: number; compression: 'none' | 'gzip'; concurrency: number; batchSizes: number[] };
  sink: { events: number; duplicateRatio: number; meters: number; only: 'all' | 'probe'; probeHistory: number[]; probeWindows: Array<'before' | 'inside'>; settleMs: number };
  usage: { events: number; chunkRows: number; runs: number; rawRuns: number };
  rating: { subscriptions: number; workers: number[]; concurrency: number; runCapMs: number };
  pipeline: { events: number; freshnessSeconds: number };
  scenarioCapMs: number;
}

/** BENCH_PORT_OFFSET (0 to 900): added to every port the bench's services listen on. */
export function benchPortOffset(env: Record<string, string | undefined> = process.env): number {
  const parsed = z.coerce.number().int().min(0).max(900).default(0).safeParse(env.BENCH_PORT_OFFSET || undefined);
  if (!parsed.success) throw new CliError(`invalid environment:\n  BENCH_PORT_OFFSET: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export function loadBenchConfig(env: Record<string, string | undefined> = process.env): BenchConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new CliError(`invalid environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    stack: loadDevConfig(env),
    ingest: {
      events: e.BENCH_INGEST_EVENTS,
      batchedEvents: e.BENCH_INGEST_BATCHED_EVENTS,
      rounds: e.BENCH_INGEST_ROUNDS,
      compression: e.BENCH_INGEST_COMPRESSION,
      concurrency: e.BENCH_INGEST_CONCURRENCY,
      batchSizes: e.BENCH_INGEST_BATCH_SIZES,
    },
    sink: {
      events: e.BENCH_SINK_EVENTS,
      duplicateRatio: e.BENCH_SINK_DUPLICATE_RATIO,
      meters: e.BENCH_SINK_METERS,
      only: e.BENCH_SINK_ONLY,
      probeHistory: e.BENCH_SINK_PROBE_HISTORY,
      probeWindows: e.BENCH_SINK_PROBE_WINDOWS,
      settleMs: e.BENCH_SINK_SETTLE_MS,
    },
    usage: { events: e.BENCH_USAGE_EVENTS, chunkRows: e.BENCH_USAGE_CHUNK_ROWS, runs: e.BENCH_USAGE_RUNS, rawRuns: e.BENCH_USAGE_RAW_RUNS },
    rating: { subscriptions: e.BENCH_RATING_SUBSCRIPTIONS, workers: e.BENCH_RATING_WORKERS, concurrency: e.BENCH_RATING_CONCURRENCY, runCapMs: e.BENCH_RATING_RUN_CAP_MS },
    pipeline: { events: e.BENCH_PIPELINE_EVENTS, freshnessSeconds: e.BENCH_PIPELINE_FRESHNESS_SECONDS },
    scenarioCapMs: e.BENCH_SCENARIO_CAP_MS,
  };
}
