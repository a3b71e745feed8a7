import path from 'node:path';
import type { DevConfig } from '../../src/config';
import { repoRoot } from '../../src/paths';
import { localSpecs, startServices, type RunningSystem, type SystemPorts } from '../../src/services/launcher';
import { BENCH_PORTS, type Cleanup } from './bench-system';

/**
 * bench:notify's processes for threshold crossings: collector → broker → sink-worker → ClickHouse,
 * and the rating-worker that evaluates the thresholds and delivers their webhooks, on the run's
 * own topics and databases. On ports of their own (BENCH_PORTS + 200; bench:rating has + 100) and
 * logs of their own (<stack>/logs/bench/notify/), so this bench runs beside the others, which
 * take BENCH_PORTS.
 */

const OFFSET = 200;
export const NOTIFY_BENCH_PORTS: SystemPorts = {
  gateway: BENCH_PORTS.gateway + OFFSET,
  collector: BENCH_PORTS.collector + OFFSET,
  ingestGrpc: BENCH_PORTS.ingestGrpc + OFFSET,
  usageGrpc: BENCH_PORTS.usageGrpc + OFFSET,
  identityGrpc: BENCH_PORTS.identityGrpc + OFFSET,
  ops: {
    collector: BENCH_PORTS.ops.collector + OFFSET,
    'sink-worker': BENCH_PORTS.ops['sink-worker'] + OFFSET,
    'rating-worker': BENCH_PORTS.ops['rating-worker'] + OFFSET,
    gateway: BENCH_PORTS.ops.gateway + OFFSET,
  },
};

/** Every port the services bind: checked free before the bench starts. */
export const notifyBenchPorts = (): number[] => [
  NOTIFY_BENCH_PORTS.collector,
  NOTIFY_BENCH_PORTS.ingestGrpc,
  NOTIFY_BENCH_PORTS.usageGrpc,
  NOTIFY_BENCH_PORTS.identityGrpc,
  NOTIFY_BENCH_PORTS.ops.collector,
  NOTIFY_BENCH_PORTS.ops['sink-worker'],
  NOTIFY_BENCH_PORTS.ops['rating-worker'],
];

export interface NotifyStores {
  /** The services' role (row-level security applies), as in production. */
  postgresAppUrl: string;
  clickhouseDatabase: string;
  topics: { events: string; dlq: string };
  run: string;
}

/**
 * Starts rating-worker, sink-worker and collector (in that order, each ready before the next),
 * with `ratingEnv` on top of the rating-worker's local settings. Logs at info: the rating-worker's
 * evaluations and crossings can be read afterwards.
 */
export async function startNotifyServices(cfg: DevConfig, stores: NotifyStores, ratingEnv: Record<string, string>, cleanup: Cleanup): Promise<RunningSystem> {
  const loopback = { LOG_LEVEL: 'info', HTTP_HOST: '127.0.0.1', GRPC_HOST: '127.0.0.1', OPS_HOST: '127.0.0.1' };
  const topicEnv = { EVENTS_TOPIC: stores.topics.events, EVENTS_DLQ_TOPIC: stores.topics.dlq, KAFKA_CLIENT_ID: `polaris-bench-${stores.run}` };
  const own: Record<string, Record<string, string>> = {
    'rating-worker': { DATABASE_URL: stores.postgresAppUrl, REDIS_URL: `redis://127.0.0.1:${cfg.ports.redis}`, ...ratingEnv },
    'sink-worker': { ...topicEnv, KAFKA_GROUP_ID: `polaris-bench-notify-${stores.run}`, CLICKHOUSE_DATABASE: stores.clickhouseDatabase },
    collector: topicEnv,
  };
  const specs = localSpecs(NOTIFY_BENCH_PORTS, loopback)
    .filter((s) => own[s.name])
    .map((s) => ({ ...s, env: { ...s.env, ...own[s.name] } }));
  const system = await startServices({ repoRoot, logDir: path.join(cfg.stackDir, 'logs', 'bench', 'notify'), specs, readyDeadlineMs: 60_000 });
  cleanup.add('stop the services', () => system.stop());
  return system;
}
