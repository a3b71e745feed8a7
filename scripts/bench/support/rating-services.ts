import path from 'node:path';
import type { DevConfig } from '../../src/config';
import { repoRoot } from '../../src/paths';
import { localSpecs, startServices, type RunningSystem, type ServiceSpec, type SystemPorts } from '../../src/services/launcher';
import { BENCH_PORTS, type Cleanup } from './bench-system';
import { pidsNamed, type CpuGroup } from './process-cpu';

/**
 * bench:rating's processes: a sink-worker serving only the Usage API over the bench's ClickHouse,
 * a rating-worker without rating (RATING_ENABLED=false) answering that sink's Meters.GetMeter from
 * the bench's PostgreSQL, and per run the rating-workers under test. On ports of their own
 * (BENCH_PORTS + 100) and logs of their own (<stack>/logs/bench/rating/), so this bench runs
 * beside the others.
 */

export const RATING_BENCH_PORTS: SystemPorts = {
  ...BENCH_PORTS,
  usageGrpc: BENCH_PORTS.usageGrpc + 100,
  identityGrpc: BENCH_PORTS.identityGrpc + 100,
  ops: { ...BENCH_PORTS.ops, 'sink-worker': BENCH_PORTS.ops['sink-worker'] + 100, 'rating-worker': BENCH_PORTS.ops['rating-worker'] + 100 },
};
export const MAX_RATING_WORKERS = 8;
/** The ops port (/metrics, /readyz) of the i-th rating-worker under test. */
export const workerOpsPort = (i: number): number => RATING_BENCH_PORTS.ops['rating-worker'] + 10 + i;
/** Every port the bench binds: checked free before it starts. */
export const ratingBenchPorts = (): number[] => [
  RATING_BENCH_PORTS.usageGrpc,
  RATING_BENCH_PORTS.identityGrpc,
  RATING_BENCH_PORTS.ops['sink-worker'],
  RATING_BENCH_PORTS.ops['rating-worker'],
  ...Array.from({ length: MAX_RATING_WORKERS }, (_, i) => workerOpsPort(i)),
];

const LOOPBACK = { LOG_LEVEL: 'warn', HTTP_HOST: '127.0.0.1', GRPC_HOST: '127.0.0.1', OPS_HOST: '127.0.0.1' };
/** Drafts would be finalized this long after the period ends: never during the bench. */
const NO_FINALIZATION_MS = 400 * 86_400_000;

const logDir = (cfg: DevConfig, name: string) => path.join(cfg.stackDir, 'logs', 'bench', 'rating', name);

/** The Usage API and the meter lookups it makes, running for the whole bench. */
export async function startUsageServices(cfg: DevConfig, stores: { postgresUrl: string; clickhouseDatabase: string }, cleanup: Cleanup): Promise<RunningSystem> {
  const own: Record<string, Record<string, string>> = {
    'rating-worker': { DATABASE_URL: stores.postgresUrl, RATING_ENABLED: 'false' },
    'sink-worker': {
      CAPABILITIES: 'usage-api',
      CLICKHOUSE_URL: cfg.clickhouse.url,
      CLICKHOUSE_USER: cfg.clickhouse.username,
      CLICKHOUSE_PASSWORD: cfg.clickhouse.password,
      CLICKHOUSE_DATABASE: stores.clickhouseDatabase,
    },
  };
  const specs = localSpecs(RATING_BENCH_PORTS, LOOPBACK)
    .filter((s) => own[s.name])
    .map((s) => ({ ...s, env: { ...s.env, ...own[s.name] } }));
  const system = await startServices({ repoRoot, logDir: logDir(cfg, 'usage'), specs, readyDeadlineMs: 60_000 });
  cleanup.add('stop the Usage API services', () => system.stop());
  return system;
}

export interface WorkerSettings {
  postgresUrl: string;
  redisUrl: string;
  /** RATING_QUEUE_PREFIX: a queue of the run's own. */
  queuePrefix: string;
  concurrency: number;
}

/** `count` rating-worker processes, started in parallel (each with a log directory of its own), ready. */
export async function startRatingWorkers(cfg: DevConfig, count: number, settings: WorkerSettings, cleanup: Cleanup): Promise<RunningSystem[]> {
  const [template] = localSpecs(RATING_BENCH_PORTS, LOOPBACK).filter((s) => s.name === 'rating-worker');
  const specs: ServiceSpec[] = Array.from({ length: count }, (_, i) => ({
    name: 'rating-worker',
    opsPort: workerOpsPort(i),
    env: {
      ...template?.env,
      // Nobody calls these workers' gRPC: any free port.
      GRPC_PORT: '0',
      DATABASE_URL: settings.postgresUrl,
      REDIS_URL: settings.redisUrl,
      RATING_QUEUE_PREFIX: settings.queuePrefix,
      RATING_SCAN_INTERVAL_MS: '1000',
      RATING_SETTLE_MS: '0',
      INVOICE_GRACE_MS: String(NO_FINALIZATION_MS),
      RATING_CONCURRENCY: String(settings.concurrency),
    },
  }));
  return Promise.all(
    specs.map(async (spec, i) => {
      const system = await startServices({ repoRoot, logDir: logDir(cfg, `${count}w-${i + 1}`), specs: [spec], readyDeadlineMs: 120_000 });
      cleanup.add(`stop rating-worker ${i + 1} of ${count}`, () => system.stop());
      return system;
    }),
  );
}

/** The bench's own process in ratingCpuGroups: not part of rating. */
export const BENCH_CPU_GROUP = 'this bench (polling)';

/** Where a run's CPU goes: the bench's processes, the stores' servers (whole), this process. */
export function ratingCpuGroups(workers: readonly RunningSystem[], usage: RunningSystem): CpuGroup[] {
  const pids = (systems: readonly RunningSystem[], name: string) => () => systems.flatMap((s) => s.services.filter((x) => x.name === name).map((x) => x.pid));
  return [
    { name: 'rating-worker processes', pids: pids(workers, 'rating-worker') },
    { name: 'sink-worker (Usage API)', pids: pids([usage], 'sink-worker') },
    { name: 'rating-worker serving Meters.GetMeter', pids: pids([usage], 'rating-worker') },
    { name: 'PostgreSQL server (all of it)', pids: () => pidsNamed('postgres') },
    { name: 'ClickHouse server (all of it)', pids: () => pidsNamed('clickhouse-serv') },
    { name: 'Redis server', pids: () => pidsNamed('redis-server') },
    { name: BENCH_CPU_GROUP, pids: () => [process.pid] },
  ];
}
