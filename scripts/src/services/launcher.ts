import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVICE_NAMES = ['rating-worker', 'sink-worker', 'collector', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceSpec {
  name: ServiceName;
  opsPort: number;
  env: Record<string, string>;
  /** What "started" means: /readyz (default) or only /healthz, for a service meant to be degraded. */
  waitFor?: 'readyz' | 'healthz';
}

export interface RunningService {
  name: ServiceName;
  pid: number;
  logFile: string;
  process: ChildProcess;
}

export interface RunningSystem {
  services: RunningService[];
  stop(): Promise<void>;
}

function lastLines(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log yet)';
  }
}

async function waitReady(svc: RunningService, opsPort: number, probe: 'readyz' | 'healthz', deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let lastProblem = 'no answer';
  while (Date.now() < until) {
    if (svc.process.exitCode !== null) {
      throw new Error(`${svc.name} exited with code ${svc.process.exitCode}; log ${svc.logFile}:\n${lastLines(svc.logFile, 30)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${opsPort}/${probe}`, { signal: AbortSignal.timeout(3_000) });
      if (res.ok) return;
      lastProblem = await res.text();
    } catch (err) {
      lastProblem = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `${svc.name} not answering /${probe} on ops port ${opsPort} after ${deadlineMs} ms (${lastProblem}); log ${svc.logFile}:\n${lastLines(svc.logFile, 30)}`,
  );
}

async function stopOne(svc: RunningService, graceMs: number): Promise<void> {
  if (svc.process.exitCode !== null || svc.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => svc.process.once('exit', () => resolve()));
  svc.process.kill('SIGTERM');
  const timer = setTimeout(() => svc.process.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the services in dependency order, each waiting until its /readyz
 * answers 200. Logs go to `<logDir>/<service>.log`. Used by `polaris demo` and by the e2e suite,
 * so both run the system the same way.
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
  mkdirSync(opts.logDir, { recursive: true });
  const running: RunningService[] = [];
  const stop = async () => {
    for (const svc of [...running].reverse()) await stopOne(svc, 10_000);
  };
  try {
    for (const spec of opts.specs) {
      const logFile = join(opts.logDir, `${spec.name}.log`);
      const log = createWriteStream(logFile, { flags: 'a' });
      const args =
        opts.runFrom === 'bundle'
          ? ['--enable-source-maps', join(opts.repoRoot, spec.name, 'dist', 'main.js')]
          : ['--import', 'tsx', join(opts.repoRoot, spec.name, 'src', 'main.ts')];
      const child = spawn(process.execPath, args, {
        cwd: opts.repoRoot,
        env: { ...process.env, ...spec.env, OPS_PORT: String(spec.opsPort) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      const svc: RunningService = { name: spec.name, pid: child.pid ?? -1, logFile, process: child };
      running.push(svc);
      await waitReady(svc, spec.opsPort, spec.waitFor ?? 'readyz', opts.readyDeadlineMs ?? 60_000);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { services: running, stop };
}

/** Ports of one running copy of the system. */
export interface SystemPorts {
  gateway: number;
  collector: number;
  ingestGrpc: number;
  usageGrpc: number;
  identityGrpc: number;
  ops: Record<ServiceName, number>;
}

export const DEFAULT_PORTS: SystemPorts = {
  gateway: 8080,
  collector: 8081,
  ingestGrpc: 50051,
  usageGrpc: 50052,
  identityGrpc: 50053,
  ops: { collector: 9091, 'sink-worker': 9092, 'rating-worker': 9093, gateway: 9094 },
};

/** The four service specs wired to each other on loopback, on the given ports. */
export function localSpecs(ports: SystemPorts, shared: Record<string, string>): ServiceSpec[] {
  const loop = (p: number) => `127.0.0.1:${p}`;
  return [
    { name: 'rating-worker', opsPort: ports.ops['rating-worker'], env: { ...shared, GRPC_PORT: String(ports.identityGrpc) } },
    { name: 'sink-worker', opsPort: ports.ops['sink-worker'], env: { ...shared, GRPC_PORT: String(ports.usageGrpc) } },
    {
      name: 'collector',
      opsPort: ports.ops.collector,
      env: { ...shared, HTTP_PORT: String(ports.collector), GRPC_PORT: String(ports.ingestGrpc), IDENTITY_GRPC_ADDR: loop(ports.identityGrpc) },
    },
    {
      name: 'gateway',
      opsPort: ports.ops.gateway,
      env: {
        ...shared,
        HTTP_PORT: String(ports.gateway),
        IDENTITY_GRPC_ADDR: loop(ports.identityGrpc),
        USAGE_GRPC_ADDR: loop(ports.usageGrpc),
        INGEST_GRPC_ADDR: loop(ports.ingestGrpc),
      },
    },
  ];
}
