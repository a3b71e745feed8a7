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
  /** Each load loop stops by itself after this long, finished or not. */
  BENCH_SCENARIO_CAP_MS: count(30_000, 120_000),
});

export interface BenchConfig {
  stack: DevConfig;
  ingest: { events: number; concurrency: number; batchSizes: number[] };
  sink: { events: number; duplicateRatio: number };
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
    sink: { events: e.BENCH_SINK_EVENTS, duplicateRatio: e.BENCH_SINK_DUPLICATE_RATIO },
    scenarioCapMs: e.BENCH_SCENARIO_CAP_MS,
  };
}
