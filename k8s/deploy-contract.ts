// What every deployable needs from its environment, as the deploy tests check it in both
// docker-compose.yml and the rendered Kubernetes manifests. Source: README.md (Configuration) and the
// services' config schemas. Every service defaults its addresses to 127.0.0.1 (the local stack),
// so a variable missing from a deployment does not fail at start: it silently points at loopback.
// The same holds for the addresses the services bind (HTTP_HOST, GRPC_HOST, OPS_HOST): loopback by
// default, so a deployment that forgets one gets a pod nobody can reach. That is why the lists
// below are checked, not merely documented; the bind variables are read from the config schemas
// themselves, so a new *_HOST cannot be forgotten.
import { EVENTS_TOPIC, EVENTS_TOPIC_PARTITIONS, SERVICE_NODE_FLAGS, SERVICE_PORTS } from '@polaris/shared/contracts';
import { collectorConfigSchema } from '../collector/src/config';
import { gatewayConfigSchema } from '../gateway/src/config';
import { ratingWorkerConfigSchema } from '../rating-worker/src/config';
import { sinkWorkerConfigSchema } from '../sink-worker/src/config';

// The events topic, and the partitions `polaris migrate` gives it: the useful maximum of sink consumers.
export { EVENTS_TOPIC, EVENTS_TOPIC_PARTITIONS };

export interface Deployable {
  name: string;
  /** The image's command for it: node, its SERVICE_NODE_FLAGS, a scripts/build.mjs output (the last argument). */
  command: readonly string[];
  ports: { http?: number; grpc?: number; ops?: number; admin?: number };
  /** Variables the process requires (optional ones such as OTEL_EXPORTER_OTLP_ENDPOINT are not listed). */
  env: readonly string[];
  /** The bind-address variables its config reads (also in `env`): every deployment sets each one explicitly. */
  bind: readonly string[];
  /**
   * gRPC address variables whose backend starts after this service, so docker-compose.yml gives
   * no startup dependency on it (one would be a cycle): the caller copes with it being down (the
   * rating jobs retry; the CLI run later by hand reports the failure).
   */
  calledWithoutWaiting?: readonly string[];
  /** Fixed values some variables must have. */
  fixed?: Readonly<Record<string, string>>;
  /** The schema its process reads its environment with: every variable set must be one it reads, and pass it. */
  config?: ConfigSchema;
  /**
   * Kubernetes: a fixed replica count, with no HPA and no PodDisruptionBudget (a singleton must not
   * block a node drain). Unset: an HPA owns the count, from at least 2, with a PDB.
   */
  replicas?: number;
}

/** What the deploy checks need of a service's zod config schema. */
export interface ConfigSchema {
  shape: Record<string, unknown>;
  safeParse(env: unknown): { success: boolean; error?: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } };
}

const common = ['LOG_LEVEL', 'OPS_PORT', 'SHUTDOWN_TIMEOUT_MS', 'OTEL_SERVICE_NAME'] as const;
/** Every service serves or calls internal gRPC, each call signed with this (docs/ARCHITECTURE.md, Tenancy). */
const internalAuth = ['INTERNAL_AUTH_SECRET'] as const;

/** The variable holding the bind address of each named port (as PORT_ENV holds its number). */
export const HOST_ENV = { http: 'HTTP_HOST', grpc: 'GRPC_HOST', ops: 'OPS_HOST', admin: 'ADMIN_HOST' } as const;
export type PortName = keyof typeof HOST_ENV;

const bindVariables = (configKeys: string[]): string[] => configKeys.filter((k) => k.endsWith('_HOST')).sort();

/** The *_HOST variables each service's config schema reads. */
export const BIND_ENV = {
  collector: bindVariables(Object.keys(collectorConfigSchema.shape)),
  gateway: bindVariables(Object.keys(gatewayConfigSchema.shape)),
  'rating-worker': bindVariables(Object.keys(ratingWorkerConfigSchema.shape)),
  'sink-worker': bindVariables(Object.keys(sinkWorkerConfigSchema.shape)),
} as const;

/** The four services, as docker-compose.yml runs them (one process per service). */
export const SERVICES: readonly Deployable[] = [
  {
    name: 'collector',
    command: ['node', ...SERVICE_NODE_FLAGS['collector'], 'collector/dist/main.js'],
    ports: SERVICE_PORTS.collector,
    bind: BIND_ENV.collector,
    config: collectorConfigSchema,
    env: [
      ...common,
      ...internalAuth,
      ...BIND_ENV.collector,
      'HTTP_PORT',
      'GRPC_PORT',
      'KAFKA_BROKERS',
      'EVENTS_TOPIC',
      'IDENTITY_GRPC_ADDR',
      'PUBLISH_TIMEOUT_MS',
      // The per-organization event rate limits are counted there.
      'REDIS_URL',
    ],
  },
  {
    name: 'sink-worker',
    command: ['node', ...SERVICE_NODE_FLAGS['sink-worker'], 'sink-worker/dist/main.js'],
    ports: SERVICE_PORTS['sink-worker'],
    bind: BIND_ENV['sink-worker'],
    config: sinkWorkerConfigSchema,
    env: [
      ...common,
      ...internalAuth,
      ...BIND_ENV['sink-worker'],
      'GRPC_PORT',
      'KAFKA_BROKERS',
      'EVENTS_TOPIC',
      'KAFKA_GROUP_ID',
      'CLICKHOUSE_URL',
      'CLICKHOUSE_DATABASE',
      'CLICKHOUSE_USER',
      'CLICKHOUSE_PASSWORD',
      // The meter catalog lease (sink), backfill claims (backfill), meter lookups (usage-api).
      'METERS_GRPC_ADDR',
    ],
  },
  {
    name: 'rating-worker',
    command: ['node', ...SERVICE_NODE_FLAGS['rating-worker'], 'rating-worker/dist/main.js'],
    ports: SERVICE_PORTS['rating-worker'],
    bind: BIND_ENV['rating-worker'],
    config: ratingWorkerConfigSchema,
    // ADMIN_PORT: the queue board (bull-board), for admin API keys. USAGE_GRPC_ADDR: the rating
    // jobs read usage through the sink-worker's Usage API; they retry while it is down.
    // KAFKA_BROKERS: the dead-letter watcher (dead_letters.growing) reads the dead-letter topic.
    env: [...common, ...internalAuth, ...BIND_ENV['rating-worker'], 'GRPC_PORT', 'ADMIN_PORT', 'DATABASE_URL', 'REDIS_URL', 'USAGE_GRPC_ADDR', 'KAFKA_BROKERS'],
    calledWithoutWaiting: ['USAGE_GRPC_ADDR'],
  },
  {
    name: 'gateway',
    command: ['node', ...SERVICE_NODE_FLAGS['gateway'], 'gateway/dist/main.js'],
    ports: SERVICE_PORTS.gateway,
    bind: BIND_ENV.gateway,
    config: gatewayConfigSchema,
    // REDIS_URL: the per-organization request limits. JWT_HS256_SECRET is optional (API keys only without it).
    env: [...common, ...internalAuth, ...BIND_ENV.gateway, 'HTTP_PORT', 'IDENTITY_GRPC_ADDR', 'USAGE_GRPC_ADDR', 'INGEST_GRPC_ADDR', 'METERS_GRPC_ADDR', 'REDIS_URL'],
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
 * Kubernetes runs the sink-worker's three roles (CAPABILITIES) as separate Deployments: the
 * consumers scale up to the partition count, the Usage gRPC API scales with query load, and one
 * meter backfill worker runs apart from both (docker-compose.yml runs all three in one process).
 */
export const K8S_WORKLOADS: readonly Deployable[] = [
  byName('collector'),
  {
    ...sinkWorker,
    ports: { ops: SERVICE_PORTS['sink-worker'].ops },
    env: [...sinkWorker.env.filter((e) => e !== 'GRPC_PORT'), 'CAPABILITIES'],
    fixed: { CAPABILITIES: 'sink' },
  },
  {
    name: 'usage-api',
    command: sinkWorker.command,
    ports: SERVICE_PORTS['sink-worker'],
    bind: BIND_ENV['sink-worker'],
    config: sinkWorkerConfigSchema,
    env: [...common, ...internalAuth, ...BIND_ENV['sink-worker'], 'GRPC_PORT', ...clickhouseEnv, 'METERS_GRPC_ADDR', 'CAPABILITIES'],
    fixed: { CAPABILITIES: 'usage-api' },
  },
  {
    name: 'meter-backfill',
    command: sinkWorker.command,
    ports: { ops: SERVICE_PORTS['sink-worker'].ops },
    bind: BIND_ENV['sink-worker'],
    config: sinkWorkerConfigSchema,
    env: [...common, ...internalAuth, ...BIND_ENV['sink-worker'], ...clickhouseEnv, 'METERS_GRPC_ADDR', 'CAPABILITIES'],
    fixed: { CAPABILITIES: 'backfill' },
    replicas: 1,
  },
  byName('rating-worker'),
  byName('gateway'),
];

/**
 * The Kubernetes workload serving the gRPC API that each address variable names. A workload whose
 * `env` lists the variable calls that API, and only the workloads listing one of the variables a
 * backend serves may reach its gRPC port (the NetworkPolicies enforce this, a second fence behind
 * the servers' caller tokens).
 */
export const K8S_GRPC_BACKENDS: Readonly<Record<string, string>> = {
  IDENTITY_GRPC_ADDR: 'rating-worker',
  // Meters and MeterCatalog: the rating-worker's server, on the same port as Identity.
  METERS_GRPC_ADDR: 'rating-worker',
  USAGE_GRPC_ADDR: 'usage-api',
  INGEST_GRPC_ADDR: 'collector',
};

/** `polaris migrate` (cli/src/config.ts): Postgres, ClickHouse and the Kafka topics. */
export const MIGRATE: Deployable = {
  name: 'migrate',
  command: ['node', 'cli/dist/polaris.js', 'migrate'],
  ports: {},
  // The CLI listens on nothing.
  bind: [],
  // docker-compose.yml's migrate is also the CLI of `docker compose run` (the invoice commands call
  // the rating-worker); migrate itself runs before every service.
  calledWithoutWaiting: ['RATING_WORKER_GRPC_ADDR'],
  // DATABASE_URL: the owner's; APP_DATABASE_URL: the services' (migrate sets polaris_app's password).
  env: [
    'DATABASE_URL',
    'APP_DATABASE_URL',
    'CLICKHOUSE_URL',
    'CLICKHOUSE_DATABASE',
    'CLICKHOUSE_USER',
    'CLICKHOUSE_PASSWORD',
    'KAFKA_BROKERS',
  ],
};

/** The env variable that carries each named port. */
export const PORT_ENV = { http: 'HTTP_PORT', grpc: 'GRPC_PORT', ops: 'OPS_PORT', admin: 'ADMIN_PORT' } as const;

/**
 * Ports no Kubernetes Service exposes: ops is scraped per pod (and probed by the kubelet), admin
 * (the rating-worker's queue board) is reached only with `kubectl port-forward`.
 */
export const PORTS_WITHOUT_SERVICE: readonly PortName[] = ['ops', 'admin'];

/**
 * The address a deployment must give a bind variable: 0.0.0.0 where something outside the
 * container reaches the port, loopback everywhere else.
 * - Kubernetes: every contract port is reached on the pod IP: http by its Service and the Ingress,
 *   grpc by the clients dialling pod IPs from the headless Service, ops by the kubelet's probes and
 *   by Prometheus. A listener the workload has no contract port for (the sink consumers' gRPC,
 *   CAPABILITIES=sink) stays on loopback: nothing may call it.
 * - docker-compose.yml: http and grpc are reached from other containers and published ports; ops
 *   only by the healthcheck, which runs inside the container, so it stays on loopback.
 * - admin (the rating-worker's queue board): in Kubernetes only `kubectl port-forward` reaches it,
 *   and that connects to the pod's own loopback, so it binds loopback there and no pod can reach
 *   it at all; in docker-compose it is published on the host's 127.0.0.1, which Docker forwards to
 *   the container's interface, so it binds 0.0.0.0 there.
 * Throws for a bind variable of no known port: a new listener needs a decision here.
 */
export function expectedBindAddress(d: Deployable, variable: string, platform: 'k8s' | 'compose'): string {
  const port = (Object.keys(HOST_ENV) as PortName[]).find((p) => HOST_ENV[p] === variable);
  if (!port) throw new Error(`${d.name}: ${variable} binds no port the deploy contract knows; add it to HOST_ENV`);
  if (port === 'admin') return platform === 'compose' && d.ports.admin !== undefined ? '0.0.0.0' : '127.0.0.1';
  const reached = d.ports[port] !== undefined && !(platform === 'compose' && port === 'ops');
  return reached ? '0.0.0.0' : '127.0.0.1';
}
