import { z } from 'zod';
import { CliError } from '@polaris/cli';
import { loadDevConfig, type DevConfig } from '../../src/config';

const count = (fallback: number, max: number) => z.coerce.number().int().positive().max(max).default(fallback);

// The only place the benches read the environment; the stack's addresses come from the developer
// CLI's config, so a bench talks to the same stack as `polaris migrate`. Loads are capped: this
// runs on 2-core developer machines and CI, next to the stack itself.
const envSchema = z.object({
  BENCH_INGEST_EVENTS: count(20_000, 200_000),
  BENCH_INGEST_CONCURRENCY: count(32, 256),
  BENCH_INGEST_BATCH_SIZES: z
    .string()
    .default('1,100')
    .transform((s) => s.split(',').map((b) => Number(b.trim())))
    .pipe(z.array(z.number().int().min(1).max(1_000)).min(1)),
  BENCH_SINK_EVENTS: count(50_000, 500_000),
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
});

export interface BenchConfig {
  stack: DevConfig;
  ingest: { events: number; concurrency: number; batchSizes: number[] };
  sink: { events: number; duplicateRatio: number; meters: number };
  usage: { events: number; chunkRows: number; runs: number; rawRuns: number };
  scenarioCapMs: number;
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
    ingest: { events: e.BENCH_INGEST_EVENTS, concurrency: e.BENCH_INGEST_CONCURRENCY, batchSizes: e.BENCH_INGEST_BATCH_SIZES },
    sink: { events: e.BENCH_SINK_EVENTS, duplicateRatio: e.BENCH_SINK_DUPLICATE_RATIO, meters: e.BENCH_SINK_METERS },
    usage: { events: e.BENCH_USAGE_EVENTS, chunkRows: e.BENCH_USAGE_CHUNK_ROWS, runs: e.BENCH_USAGE_RUNS, rawRuns: e.BENCH_USAGE_RAW_RUNS },
    scenarioCapMs: e.BENCH_SCENARIO_CAP_MS,
  };
}
