import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './http';
import { freePort, repoRoot } from './private-services';

export type ConnectConfig = 'webhook-receiver' | 'access-log-tailer' | 'gauge-poller';

export const connectConfigPath = (config: ConnectConfig): string => join(repoRoot, 'collector', 'connect', `${config}.yaml`);

export interface RunningConnect {
  /** Where the config's HTTP server listens (the webhook input; /ready, /metrics). */
  url: string;
  logFile: string;
  /** A counter of Benthos' metrics, summed over the series of components with this label. */
  counter(name: string, label: string): Promise<number>;
  /** SIGTERM, then the exit (SIGKILL after 30 s): Benthos drains what is in flight first. */
  stop(): Promise<void>;
}

let started = 0;

/**
 * Runs one config of collector/connect with the Benthos binary, as `rpk connect run` would,
 * with only the environment given (and PATH), and waits for its /ready. Metrics are served as
 * JSON (json_api, from Benthos' own components): the configs leave metrics to the runtime, which
 * is Prometheus under Redpanda Connect.
 */
export async function runConnect(binary: string, config: ConnectConfig, env: Record<string, string>): Promise<RunningConnect> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logDir = join(repoRoot, '.stack', 'logs', 'e2e-connect');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${config}-${process.pid}-${++started}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, ['run', '--set', 'metrics.json_api={}', connectConfigPath(config)], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CONNECT_HTTP_ADDRESS: `127.0.0.1:${port}`, ...env },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `exited on ${signal}` : `exited with code ${code}`;
      resolve();
    });
  });
  const lastLines = () => readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');

  const running: RunningConnect = {
    url,
    logFile,
    async counter(name, label) {
      const metrics = (await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).json()) as Record<string, unknown>;
      return Object.entries(metrics)
        .filter(([series]) => series.startsWith(`${name}{`) && series.includes(`label="${label}"`))
        .reduce((sum, [, value]) => sum + Number(value), 0);
    },
    async stop() {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };

  let state: 'ready' | 'exited';
  try {
    state = await eventually(async () => {
      if (exit) return 'exited';
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
      return res.ok ? 'ready' : undefined;
    }, `${config} to be ready (${logFile})`, 30_000);
  } catch (err) {
    await running.stop();
    throw err;
  }
  if (state === 'exited') throw new Error(`benthos running ${config} ${exit} before it was ready:\n${lastLines()}`);
  return running;
}

/** The lines of a JSON Lines file (the dead letters), none while it does not exist. */
export function jsonLines(path: string): Array<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
