// What every deployable needs from its environment, as the deploy tests check it in both
// docker-compose.yml and the rendered Kubernetes manifests. Source: README.md (Configuration) and the
// services' config schemas. Every service defaults its addresses to 127.0.0.1 (the local stack),
// so a variable missing from a deployment does not fail at start: it silently points at loopback.
// That is why the lists below are checked, not merely documented.
import { EVENTS_TOPIC } from '../shared/src/contracts/events-topic';
import { TOPICS } from '../scripts/src/migrate/migrate';

export { EVENTS_TOPIC };

/** Partitions `polaris migrate` gives the events topic: the useful maximum of sink consumers. */
export const EVENTS_TOPIC_PARTITIONS: number = (() => {
  const spec = TOPICS.find((t) => t.topic === EVENTS_TOPIC);
  if (!spec) throw new Error(`polaris migrate does not create ${EVENTS_TOPIC}`);
  return spec.partitions;
})();

export interface Deployable {
  name: string;
  /** The image's command for it; the path is a scripts/build.mjs output. */
  command: readonly string[];
  ports: { http?: number; grpc?: number; ops?: number };
  /** Variables the process requires (optional ones such as OTEL_EXPORTER_OTLP_ENDPOINT are not listed). */
  env: readonly string[];
  /** Fixed values some variables must have. */
  fixed?: Readonly<Record<string, string>>;
}

const common = ['LOG_LEVEL', 'OPS_PORT', 'SHUTDOWN_TIMEOUT_MS', 'OTEL_SERVICE_NAME'] as const;

/** The four services, as docker-compose.yml runs them (one process per service). */
export const SERVICES: readonly Deployable[] = [
  {
    name: 'collector',
    command: ['node', 'collector/dist/main.js'],
    ports: { http: 8081, grpc: 50051, ops: 9091 },
    env: [
      ...common,
      'HTTP_PORT',
      'GRPC_PORT',
      'KAFKA_BROKERS',
      'EVENTS_TOPIC',
      'IDENTITY_GRPC_ADDR',
      'PUBLISH_TIMEOUT_MS',
    ],
  },
  {
    name: 'sink-worker',
    command: ['node', 'sink-worker/dist/main.js'],
    ports: { grpc: 50052, ops: 9092 },
    env: [
      ...common,
      'GRPC_PORT',
      'KAFKA_BROKERS',
      'EVENTS_TOPIC',
      'KAFKA_GROUP_ID',
      'CLICKHOUSE_URL',
      'CLICKHOUSE_DATABASE',
      'CLICKHOUSE_USER',
      'CLICKHOUSE_PASSWORD',
    ],
  },
  {
    name: 'rating-worker',
    command: ['node', 'rating-worker/dist/main.js'],
    ports: { grpc: 50053, ops: 9093 },
    env: [...common, 'GRPC_PORT', 'DATABASE_URL', 'REDIS_URL'],
  },
  {
    name: 'gateway',
    command: ['node', 'gateway/dist/main.js'],
    ports: { http: 8080, ops: 9094 },
    env: [...common, 'HTTP_PORT', 'IDENTITY_GRPC_ADDR', 'USAGE_GRPC_ADDR', 'INGEST_GRPC_ADDR'],
  },
];

const byName = (name: string): Deployable => {
  const found = SERVICES.find((s) => s.name === name);
  if (!found) throw new Error(`no service ${name}`);
  return found;
};
const sinkWorker = byName('sink-worker');
const clickhouseEnv = sinkWorker.env.filter((e) => e.startsWith('CLICKHOUSE_'));

/**
 * Kubernetes runs the sink-worker's two roles (CAPABILITIES) as separate Deployments: the
 * consumers scale up to the partition count, the Usage gRPC API scales with query load.
 */
export const K8S_WORKLOADS: readonly Deployable[] = [
  byName('collector'),
  {
    ...sinkWorker,
    ports: { ops: 9092 },
    env: [...sinkWorker.env.filter((e) => e !== 'GRPC_PORT'), 'CAPABILITIES'],
    fixed: { CAPABILITIES: 'sink' },
  },
  {
    name: 'usage-api',
    command: sinkWorker.command,
    ports: { grpc: 50052, ops: 9092 },
    env: [...common, 'GRPC_PORT', ...clickhouseEnv, 'CAPABILITIES'],
    fixed: { CAPABILITIES: 'usage-api' },
  },
  byName('rating-worker'),
  byName('gateway'),
];

/**
 * The Kubernetes workload serving the gRPC API that each address variable names. A workload whose
 * `env` lists the variable calls that API, and only those workloads may reach its gRPC port: the
 * servers trust the organization id in the request (the NetworkPolicies enforce this).
 */
export const K8S_GRPC_BACKENDS: Readonly<Record<string, string>> = {
  IDENTITY_GRPC_ADDR: 'rating-worker',
  USAGE_GRPC_ADDR: 'usage-api',
  INGEST_GRPC_ADDR: 'collector',
};

/** `polaris migrate` (scripts/src/config.ts): Postgres, ClickHouse and the Kafka topics. */
export const MIGRATE: Deployable = {
  name: 'migrate',
  command: ['node', 'scripts/dist/cli.js', 'migrate'],
  ports: {},
  env: [
    'DATABASE_URL',
    'CLICKHOUSE_URL',
    'CLICKHOUSE_DATABASE',
    'CLICKHOUSE_USER',
    'CLICKHOUSE_PASSWORD',
    'KAFKA_BROKERS',
  ],
};

/** The env variable that carries each named port. */
export const PORT_ENV = { http: 'HTTP_PORT', grpc: 'GRPC_PORT', ops: 'OPS_PORT' } as const;
