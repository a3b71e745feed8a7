import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DevConfig } from '../config';
import { CliError, formatDuration } from '@polaris/cli';
import { stackLayout } from '../paths';
import { pidProcess, processState, readPidFile, removePidFile, writePidFile } from '../processes/pid-file';
import { pollUntil } from '../processes/poll-until';
import { spawnLogged } from '../processes/spawn-logged';
import { stopProcess } from '../processes/stop-process';
import { clickhouseService } from './clickhouse';
import { ensurePackages } from './install';
import { kafkaService } from './kafka';
import { isPortOpen, portOwner } from './ports';
import { postgresService } from './postgres';
import { redisService } from './redis';
import { smtpService } from './smtp';
import { StackError, type StackServiceName, type StackService } from './service';

type Log = (line: string) => void;

export function stackServices(config: DevConfig): StackService[] {
  const layout = stackLayout(config.stackDir);
  return [
    postgresService(config, layout),
    clickhouseService(config, layout),
    kafkaService(config, layout),
    redisService(config, layout),
    smtpService(config, layout),
  ];
}

export type ServiceState = 'ready' | 'not-ready' | 'stale-pid' | 'down';

export interface ServiceStatus {
  service: StackServiceName;
  pid: number | null;
  port: number;
  state: ServiceState;
  note: string;
}

async function foreignPortUse(service: StackService): Promise<string | undefined> {
  for (const port of service.ports) {
    if (await isPortOpen(port)) return `port ${port} is in use by ${(await portOwner(port)) ?? 'another process'}`;
  }
  return undefined;
}

async function inspect(service: StackService): Promise<ServiceStatus> {
  const record = readPidFile(service.pidFile);
  const base = { service: service.name, port: service.ports[0] ?? 0 };
  if (record && processState(record) === 'alive') {
    try {
      await service.probe();
      return { ...base, pid: record.pid, state: 'ready', note: '' };
    } catch (error) {
      return { ...base, pid: record.pid, state: 'not-ready', note: error instanceof Error ? error.message : String(error) };
    }
  }
  const foreign = await foreignPortUse(service);
  return { ...base, pid: record?.pid ?? null, state: record ? 'stale-pid' : 'down', note: foreign ?? '' };
}

export function stackStatus(config: DevConfig): Promise<ServiceStatus[]> {
  return Promise.all(stackServices(config).map(inspect));
}

/** Starts one service (or finds it running) and waits until it is ready. Exported for outage tests. */
export async function upOne(service: StackService, timeoutMs: number, log: Log): Promise<void> {
  const started = Date.now();
  const record = readPidFile(service.pidFile);
  if (record && processState(record) === 'alive') {
    // Ours and alive: ready now, or still starting (e.g. a concurrent `up`).
    const why = await pollUntil(() => service.probe(), { timeoutMs });
    if (why) throw new StackError(service, `pid ${record.pid} is running but ${why}`);
    await service.afterReady?.();
    log(`${service.name}: already running (pid ${record.pid})`);
    return;
  }
  if (record) removePidFile(service.pidFile);
  const foreign = await foreignPortUse(service);
  if (foreign) {
    throw new CliError(`${service.name}: ${foreign}, which polaris did not start; stop it or choose other ports (POLARIS_*_PORT)`);
  }
  await service.prepare(log);
  // Detached: the stack outlives this CLI run; later runs find it through the pidfile.
  const launched = await spawnLogged(await service.launch(), 'detached');
  writePidFile(service.pidFile, launched.pid);
  const why = await pollUntil(() => service.probe(), { timeoutMs, aborted: launched.exited });
  if (why) {
    if (launched.exited()) removePidFile(service.pidFile);
    else log(`${service.name}: pid ${launched.pid} left running for inspection; \`polaris stack down\` stops it`);
    throw new StackError(service, `pid ${launched.pid} ${why}`);
  }
  await service.afterReady?.();
  log(`${service.name}: started (pid ${launched.pid}), ready in ${formatDuration(Date.now() - started)}`);
}

/** Installs what is missing, then starts the services in parallel and waits until each is ready. */
export async function stackUp(config: DevConfig, log: Log): Promise<void> {
  const services = stackServices(config);
  await ensurePackages(
    services.flatMap((s) => s.requirements),
    log,
  );
  const results = await Promise.allSettled(services.map((s) => upOne(s, config.startTimeoutMs, log)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
  if (failures.length > 0) {
    const messages = failures.map((f: unknown) => (f instanceof Error ? f.message : String(f)));
    throw new CliError(`stack up failed:\n${messages.join('\n\n')}`);
  }
}

// Kafka's controlled shutdown and ClickHouse's table flush can take a while on a busy box.
const STOP_GRACE_MS = 30_000;

/** Stops one service started by `upOne`, by its pidfile. */
export async function downOne(service: StackService, log: Log): Promise<void> {
  const record = readPidFile(service.pidFile);
  if (!record) {
    log(`${service.name}: not running`);
    return;
  }
  if (processState(record) === 'dead') {
    removePidFile(service.pidFile);
    log(`${service.name}: removed stale pidfile (pid ${record.pid})`);
    return;
  }
  const started = Date.now();
  const how = await stopProcess(pidProcess(record), service.stopSignal, STOP_GRACE_MS);
  removePidFile(service.pidFile);
  log(`${service.name}: ${how} (pid ${record.pid}) in ${formatDuration(Date.now() - started)}`);
}

/** Stops only the processes recorded in the stack's pidfiles. */
export async function stackDown(config: DevConfig, log: Log): Promise<void> {
  const results = await Promise.allSettled(stackServices(config).map((s) => downOne(s, log)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) throw new CliError(`stack down failed:\n${failures.join('\n')}`);
}

/** Stops the stack and deletes its state, keeping the Kafka jars so the next `up` is quick. */
export async function stackReset(config: DevConfig, log: Log): Promise<void> {
  await stackDown(config, log);
  const layout = stackLayout(config.stackDir);
  if (!existsSync(layout.root)) return;
  for (const entry of readdirSync(layout.root)) {
    const full = path.join(layout.root, entry);
    if (full !== layout.kafka.dir) {
      rmSync(full, { recursive: true, force: true });
      continue;
    }
    for (const inner of readdirSync(full)) {
      if (path.join(full, inner) !== layout.kafka.libs) rmSync(path.join(full, inner), { recursive: true, force: true });
    }
  }
  log(`reset: removed state under ${layout.root} (kept ${path.relative(layout.root, layout.kafka.libs)})`);
}
