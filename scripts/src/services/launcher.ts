import { join } from 'node:path';
import { SERVICE_NODE_FLAGS, SERVICE_PORTS } from '@polaris/shared/contracts';
import { describeLogTail } from '../processes/log-tail';
import { pollUntil } from '../processes/poll-until';
import { describeExit, spawnLogged, type LoggedProcess } from '../processes/spawn-logged';
import { stopProcess } from '../processes/stop-process';
import { loadDevConfig } from '../config';
import { isPortOpen, portOwner } from '../stack/ports';
import { localInternalAuthSecret } from './internal-auth-secret';

// For callers that start copies of services on ports of their own (e2e, benches).
export { freePort } from '../stack/ports';
// For callers that talk to the launched services' gRPC directly (e2e): they sign with it too.
export { localInternalAuthSecret } from './internal-auth-secret';

/** The four Polaris services (not the stack's stores), in the order they start: each needs those before it. */
export const POLARIS_SERVICE_NAMES = ['rating-worker', 'sink-worker', 'collector', 'gateway'] as const;
export type PolarisServiceName = (typeof POLARIS_SERVICE_NAMES)[number];

export interface ServiceSpec {
  name: PolarisServiceName;
  opsPort: number;
  env: Record<string, string>;
  /** What "started" means: /readyz (default) or only /healthz, for a service meant to be degraded. */
  waitFor?: 'readyz' | 'healthz';
}

export interface RunningService {
  name: PolarisServiceName;
  pid: number;
  logFile: string;
  process: LoggedProcess;
  /** How long it may take to exit after SIGTERM before it counts as hung. */
  stopDeadlineMs: number;
}

export interface RunningSystem {
  services: RunningService[];
  /** Stops every service, newest first; rejects naming each one that hung or exited non-zero. */
  stop(): Promise<void>;
}

const LOG_LINES = 30;
// A service gives up draining after its SHUTDOWN_TIMEOUT_MS (shared/src/config.ts, 10 s unless
// set) and exits 1 saying so; the margin lets that exit and its log line come before our SIGKILL.
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const STOP_MARGIN_MS = 5_000;

function stopDeadlineMs(env: NodeJS.ProcessEnv): number {
  const own = Number(env.SHUTDOWN_TIMEOUT_MS);
  return (Number.isFinite(own) && own > 0 ? own : DEFAULT_SHUTDOWN_TIMEOUT_MS) + STOP_MARGIN_MS;
}

async function waitStarted(svc: RunningService, spec: ServiceSpec, deadlineMs: number): Promise<void> {
  const probe = spec.waitFor ?? 'readyz';
  const answers = async () => {
    const res = await fetch(`http://127.0.0.1:${spec.opsPort}/${probe}`, { signal: AbortSignal.timeout(3_000) });
    if (!res.ok) throw new Error(await res.text());
  };
  const why = await pollUntil(answers, { timeoutMs: deadlineMs, aborted: svc.process.exited });
  if (why) throw new Error(`${svc.name} (pid ${svc.pid}, /${probe} on ops port ${spec.opsPort}) ${why}${describeLogTail(svc.logFile, LOG_LINES)}`);
}

/** Why stopping went wrong, or undefined when the service exited 0 within its deadline. */
async function stopService(svc: RunningService): Promise<string | undefined> {
  const before = svc.process.exitStatus();
  if (before) return before.code === 0 ? undefined : `had ${describeExit(before)} before it was stopped`;
  const how = await stopProcess(svc.process, 'SIGTERM', svc.stopDeadlineMs);
  if (how === 'killed') return `did not exit within ${svc.stopDeadlineMs} ms of SIGTERM, so it was SIGKILLed`;
  const exit = svc.process.exitStatus();
  return exit && exit.code !== 0 ? `${describeExit(exit)} after SIGTERM` : undefined;
}

async function stopAll(running: readonly RunningService[]): Promise<void> {
  const problems: string[] = [];
  for (const svc of [...running].reverse()) {
    const problem = await stopService(svc).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    if (problem) problems.push(`${svc.name} (pid ${svc.pid}) ${problem}${describeLogTail(svc.logFile, LOG_LINES)}`);
  }
  if (problems.length > 0) throw new Error(`services did not stop cleanly:\n${problems.join('\n')}`);
}

/**
 * Starts the services in dependency order, each waiting until its /readyz
 * answers 200. Logs go to `<logDir>/<service>.log`. Used by `polaris demo` and by the e2e suite,
 * so both run the system the same way. Each gets INTERNAL_AUTH_SECRET = localInternalAuthSecret.
 */
export async function startServices(opts: {
  repoRoot: string;
  logDir: string;
  specs: ServiceSpec[];
  readyDeadlineMs?: number;
  /**
   * `source` runs src/main.ts through tsx (quick to iterate); `bundle` runs dist/main.js as built
   * by scripts/build.mjs for the image, so tests exercise exactly what ships.
   */
  runFrom?: 'source' | 'bundle';
}): Promise<RunningSystem> {
  const running: RunningService[] = [];
  let starting: RunningService | undefined;
  try {
    for (const spec of opts.specs) {
      const logFile = join(opts.logDir, `${spec.name}.log`);
      // The flags the image starts it with (its heap cap), so local runs hold the memory it ships with.
      const args = [
        ...SERVICE_NODE_FLAGS[spec.name],
        ...(opts.runFrom === 'bundle'
          ? ['--enable-source-maps', join(opts.repoRoot, spec.name, 'dist', 'main.js')]
          : ['--import', 'tsx', join(opts.repoRoot, spec.name, 'src', 'main.ts')]),
      ];
      // Whatever already listens on the ops port would answer our readiness probe for the
      // service we start (which then dies on EADDRINUSE): another test run, a demo.
      if (await isPortOpen(spec.opsPort)) {
        throw new Error(`${spec.name}: ops port ${spec.opsPort} is already in use by ${(await portOwner(spec.opsPort)) ?? 'another process'}`);
      }
      // Every service launched from this checkout shares one internal-call secret; a spec may set its own.
      // A rating-worker serves its queue board only where its spec says: private copies (e2e,
      // benches) must never clash with the demo's on the default port.
      const board = spec.name === 'rating-worker' ? { ADMIN_PORT: '0' } : {};
      const env = { ...process.env, INTERNAL_AUTH_SECRET: localInternalAuthSecret(opts.repoRoot), ...board, ...spec.env, OPS_PORT: String(spec.opsPort) };
      const child = await spawnLogged({ file: process.execPath, args, cwd: opts.repoRoot, output: logFile, env }, 'attached');
      starting = { name: spec.name, pid: child.pid, logFile, process: child, stopDeadlineMs: stopDeadlineMs(env) };
      await waitStarted(starting, spec, opts.readyDeadlineMs ?? 60_000);
      running.push(starting);
      starting = undefined;
    }
  } catch (err) {
    // The service that did not start has explained itself in `err`: stop it quietly, and add
    // only what went wrong stopping the others, so the news is not buried.
    if (starting) await stopService(starting).catch(() => undefined);
    const others = await stopAll(running).then(
      () => '',
      (stopErr: unknown) => `\n(and while stopping the others: ${stopErr instanceof Error ? stopErr.message : String(stopErr)})`,
    );
    if (others && err instanceof Error) err.message += others;
    throw err;
  }
  return { services: running, stop: () => stopAll(running) };
}

/** Ports of one running copy of the system. */
export interface SystemPorts {
  gateway: number;
  collector: number;
  ingestGrpc: number;
  usageGrpc: number;
  identityGrpc: number;
  /** The rating-worker's queue board (bull-board); none when unset. */
  ratingAdmin?: number;
  ops: Record<PolarisServiceName, number>;
}

/** The services' own defaults (the demo runs there). */
export const DEFAULT_PORTS: SystemPorts = {
  gateway: SERVICE_PORTS.gateway.http,
  collector: SERVICE_PORTS.collector.http,
  ingestGrpc: SERVICE_PORTS.collector.grpc,
  usageGrpc: SERVICE_PORTS['sink-worker'].grpc,
  identityGrpc: SERVICE_PORTS['rating-worker'].grpc,
  ratingAdmin: SERVICE_PORTS['rating-worker'].admin,
  ops: {
    collector: SERVICE_PORTS.collector.ops,
    'sink-worker': SERVICE_PORTS['sink-worker'].ops,
    'rating-worker': SERVICE_PORTS['rating-worker'].ops,
    gateway: SERVICE_PORTS.gateway.ops,
  },
};

/** The four service specs wired to each other on loopback, on the given ports. */
export function localSpecs(ports: SystemPorts, shared: Record<string, string>): ServiceSpec[] {
  const loop = (p: number) => `127.0.0.1:${p}`;
  const dev = loadDevConfig();
  return [
    // Shorter meter leases and syncs than the production defaults: on one machine a sink restart
    // (e2e) should not hold a backfill back for 40 s, and a new meter should count within a second.
    // The rating jobs keep their defaults. Their Usage API (the sink-worker) starts after the
    // rating-worker, which is fine: the jobs retry until it answers.
    {
      name: 'rating-worker',
      opsPort: ports.ops['rating-worker'],
      env: {
        // The services' role (polaris_app, under row-level security), never the owner's
        // DATABASE_URL the environment may hold for the CLI; a spec's own (a test's database) wins.
        DATABASE_URL: dev.postgres.appUrl ?? dev.postgres.url,
        // The dead-letter watcher reads the local stack's dead-letter topic; its consumer group is
        // per database (DEAD_LETTER_WATCH_GROUP_ID unset), so copies on other databases keep apart.
        KAFKA_BROKERS: dev.kafka.brokers.join(','),
        ...shared,
        GRPC_PORT: String(ports.identityGrpc),
        ADMIN_PORT: String(ports.ratingAdmin ?? 0),
        USAGE_GRPC_ADDR: loop(ports.usageGrpc),
        METER_LEASE_TTL_MS: '15000',
        METER_LEASE_GRACE_MS: '5000',
        // Notification email goes to the local stack's SMTP server (kept under .stack/smtp/), and
        // webhooks may reach loopback receivers (the demo's): on one machine everything is local.
        SMTP_URL: `smtp://127.0.0.1:${loadDevConfig().ports.smtp}`,
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      },
    },
    {
      name: 'sink-worker',
      opsPort: ports.ops['sink-worker'],
      env: {
        ...shared,
        GRPC_PORT: String(ports.usageGrpc),
        METERS_GRPC_ADDR: loop(ports.identityGrpc),
        METER_CATALOG_SYNC_INTERVAL_MS: '1000',
        METER_LEASE_SAFETY_MARGIN_MS: '5000',
        BACKFILL_POLL_INTERVAL_MS: '500',
      },
    },
    {
      name: 'collector',
      opsPort: ports.ops.collector,
      env: {
        // The local stack's Redis holds the per-organization event counts (rate limits); a spec's
        // own REDIS_URL (a test's private Redis) wins.
        REDIS_URL: `redis://127.0.0.1:${dev.ports.redis}`,
        ...shared,
        HTTP_PORT: String(ports.collector),
        GRPC_PORT: String(ports.ingestGrpc),
        IDENTITY_GRPC_ADDR: loop(ports.identityGrpc),
      },
    },
    {
      name: 'gateway',
      opsPort: ports.ops.gateway,
      env: {
        // The per-organization request counts (gateway rate limits) live in the same Redis.
        REDIS_URL: `redis://127.0.0.1:${dev.ports.redis}`,
        // Lets the local system (demo, e2e) sign dashboard tokens (createDashboardToken). A fixed
        // secret is fine for a gateway bound to loopback; compose and k8s take theirs from a Secret.
        JWT_HS256_SECRET: 'polaris-local-stack-dashboard-token-secret',
        ...shared,
        HTTP_PORT: String(ports.gateway),
        IDENTITY_GRPC_ADDR: loop(ports.identityGrpc),
        USAGE_GRPC_ADDR: loop(ports.usageGrpc),
        INGEST_GRPC_ADDR: loop(ports.ingestGrpc),
        METERS_GRPC_ADDR: loop(ports.identityGrpc),
      },
    },
  ];
}
