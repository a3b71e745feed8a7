import path from 'node:path';
import { fileURLToPath } from 'node:url';

// scripts/src/paths.ts sits two levels below the repo root (the developer CLI runs from source).
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const kafkaPom = path.join(repoRoot, 'scripts', 'stack', 'kafka', 'pom.xml');

/** Where each service of the local stack keeps its state, logs and pidfile. */
export function stackLayout(stackDir: string) {
  const logs = path.join(stackDir, 'logs');
  const run = path.join(stackDir, 'run');
  return {
    root: stackDir,
    logs,
    run,
    pidFile: (service: string) => path.join(run, `${service}.pid`),
    postgres: {
      dir: path.join(stackDir, 'postgres'),
      data: path.join(stackDir, 'postgres', 'data'),
      socket: path.join(stackDir, 'postgres', 'socket'),
      log: path.join(logs, 'postgres.log'),
    },
    clickhouse: {
      dir: path.join(stackDir, 'clickhouse'),
      data: path.join(stackDir, 'clickhouse', 'data'),
      config: path.join(stackDir, 'clickhouse', 'config.xml'),
      users: path.join(stackDir, 'clickhouse', 'users.xml'),
      log: path.join(logs, 'clickhouse.log'),
      errorLog: path.join(logs, 'clickhouse.err.log'),
      stdout: path.join(logs, 'clickhouse.stdout.log'),
    },
    kafka: {
      dir: path.join(stackDir, 'kafka'),
      // Kept by `stack reset`: resolving the jars is the slow part of a cold start.
      libs: path.join(stackDir, 'kafka', 'libs'),
      data: path.join(stackDir, 'kafka', 'data'),
      properties: path.join(stackDir, 'kafka', 'server.properties'),
      log4j: path.join(stackDir, 'kafka', 'log4j2.xml'),
      clusterId: path.join(stackDir, 'kafka', 'cluster-id'),
      log: path.join(logs, 'kafka.log'),
      stdout: path.join(logs, 'kafka.stdout.log'),
    },
    redis: {
      dir: path.join(stackDir, 'redis'),
      log: path.join(logs, 'redis.log'),
    },
    // The local SMTP server keeps every message it receives here (`<n>.eml`, `<n>.json`).
    smtp: {
      messages: path.join(stackDir, 'smtp', 'messages'),
      log: path.join(logs, 'smtp.log'),
    },
  };
}

export type StackLayout = ReturnType<typeof stackLayout>;
