import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { CliError } from '@polaris/cli';
import { throwawayDatabase as migratedDatabase } from '@polaris/clickhouse/testing';
import { apiKeys, organizations } from '@polaris/postgres';
import { encodeEventMessage, EVENTS_TOPIC_PARTITIONS, eventMessageKey, normalizeCloudEvent } from '@polaris/shared/contracts';
import { CompressionTypes, Kafka, logLevel, Partitioners, type Admin, type Message } from 'kafkajs';
import pg from 'pg';
import type { DevConfig } from '../../src/config';
import { benchPortOffset } from './bench-config';
import { sampleEvents } from '../../src/demo/sample-events';
import { repoRoot } from '../../src/paths';
import { localSpecs, startServices, type RunningSystem, type PolarisServiceName, type SystemPorts } from '../../src/services/launcher';

/** The benches' own copy of the services: beside a demo (default ports) and the e2e suite (1xxxx). */
const offset = benchPortOffset();
/** BENCH_PORT_OFFSET moves them all, so that two benches can run side by side (sharing the machine). */
export const BENCH_PORTS: SystemPorts = {
  gateway: 28080 + offset,
  collector: 28081 + offset,
  ingestGrpc: 25051 + offset,
  usageGrpc: 25052 + offset,
  identityGrpc: 25053 + offset,
  ops: { collector: 29091 + offset, 'sink-worker': 29092 + offset, 'rating-worker': 29093 + offset, gateway: 29094 + offset },
};

/** Short id of one bench run, in every name it creates (org slug, topics, databases, group). */
export const newRunId = (): string => randomUUID().replace(/-/g, '').slice(0, 10);

/** Undo steps, run newest first, once: at the end, on failure, and on Ctrl-C. */
export class Cleanup {
  private readonly steps: Array<{ what: string; run: () => Promise<unknown> }> = [];
  private done: Promise<void> | undefined;

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) {
        await step.run().catch((err: unknown) => console.error(`cleanup: ${step.what} failed: ${err instanceof Error ? err.message : String(err)}`));
      }
    })();
    return this.done;
  }

  onInterrupt(): void {
    const bail = (signal: NodeJS.Signals) => {
      console.error(`\n${signal}: cleaning up …`);
      void this.run().finally(() => process.exit(130));
    };
    process.once('SIGINT', bail);
    process.once('SIGTERM', bail);
  }
}

/**
 * Runs a bench's `main` (which returns what went wrong: wrong counts, errors; never slowness),
 * cleans up whatever happened, and exits non-zero only on failure.
 */
export async function runBench(main: () => Promise<string[]>, cleanup: Cleanup): Promise<never> {
  let code = 1;
  try {
    const failures = await main();
    if (failures.length > 0) console.error(`\nFAILED:\n  ${failures.join('\n  ')}`);
    else code = 0;
  } catch (err) {
    console.error(err instanceof CliError ? err.message : err);
  } finally {
    await cleanup.run();
  }
  process.exit(code);
}

export function machineConditions(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${load}, node ${process.version}`;
}

/** A fresh organization and an events:write key, removed again by `cleanup` (the key with it). */
export async function createBenchTenant(cfg: DevConfig, run: string, cleanup: Cleanup): Promise<{ orgId: string; apiKey: string }> {
  const connect = async () => {
    const db = new pg.Client({ connectionString: cfg.postgres.url });
    await db.connect();
    return db;
  };
  const db = await connect();
  try {
    const org = await organizations.create(db, { name: `Bench ${run}`, slug: `bench-${run}` });
    cleanup.add('delete bench organization', async () => {
      const again = await connect();
      try {
        await again.query('DELETE FROM organizations WHERE id = $1', [org.id]); // api_keys: ON DELETE CASCADE
      } finally {
        await again.end();
      }
    });
    const { key } = await apiKeys.create(db, { organizationId: org.id, name: `bench ${run}`, scopes: ['events:write'] });
    return { orgId: org.id, apiKey: key };
  } finally {
    await db.end();
  }
}

/**
 * `count` fresh CloudEvents of plausible traffic (the demo's generator), and the same events as
 * the collector would put them on the topic (contracts/events-topic.ts), for `orgId`.
 */
export function benchEvents(orgId: string, count: number): { cloudEvents: Record<string, unknown>[]; messages: Message[] } {
  const now = Date.now();
  const cloudEvents = sampleEvents(count, now);
  const messages = cloudEvents.map((ce) => {
    const ev = normalizeCloudEvent(ce, now);
    return { key: eventMessageKey(orgId, ev), value: encodeEventMessage(orgId, ev, now) };
  });
  return { cloudEvents, messages };
}

/**
 * The run's topics (see createBenchTopics), an admin client, and a stock kafkajs producer (its
 * DefaultPartitioner) whose `produce` sends with acks=-1 and `compression` (default none).
 */
export async function benchBroker(cfg: DevConfig, run: string, cleanup: Cleanup, compression: 'none' | 'gzip' = 'none') {
  const kafka = new Kafka({ clientId: 'polaris-bench', brokers: cfg.kafka.brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  cleanup.add('disconnect admin', () => admin.disconnect());
  const topics = await createBenchTopics(admin, cfg, run, cleanup);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  cleanup.add('disconnect producer', () => producer.disconnect());
  const produce = async (messages: Message[]): Promise<number> => {
    await producer.send({ topic: topics.events, acks: -1, compression: compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None, messages });
    return messages.length;
  };
  return { admin, topics, produce };
}

/**
 * Topics of this run, partitioned like the real ones (contracts/topics.ts), so the bench neither
 * replays nor feeds whatever the real topic holds and leaves nothing behind.
 */
async function createBenchTopics(admin: Admin, cfg: DevConfig, run: string, cleanup: Cleanup) {
  const partitions = EVENTS_TOPIC_PARTITIONS;
  const topics = { events: `polaris.bench.${run}.events.v1`, dlq: `polaris.bench.${run}.events.dlq.v1` };
  await admin.createTopics({
    waitForLeaders: true,
    topics: [topics.events, topics.dlq].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: cfg.kafka.replicationFactor })),
  });
  cleanup.add('delete bench topics', () => admin.deleteTopics({ topics: [topics.events, topics.dlq] }));
  return { ...topics, partitions };
}

/** Messages on a topic: the sum of its partitions' high watermarks (the topic is new). */
export async function topicMessageCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/** A database of this run with the real ClickHouse migrations, dropped by `cleanup`. */
export async function throwawayDatabase(cfg: DevConfig, name: string, cleanup: Cleanup): Promise<{ database: string; client: ClickHouseClient }> {
  const connection = { url: cfg.clickhouse.url, username: cfg.clickhouse.username, password: cfg.clickhouse.password };
  const db = await migratedDatabase({ connection, database: name, migrated: false });
  // Registered before migrating, so a migration that fails half way is dropped too.
  cleanup.add(`drop database ${name}`, () => db.drop());
  await db.migrate();
  return db;
}

export async function clickhouseVersion(cfg: DevConfig): Promise<string> {
  const ch = createClient({ url: cfg.clickhouse.url, username: cfg.clickhouse.username, password: cfg.clickhouse.password });
  try {
    const rs = await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    return (await rs.json<{ v: string }>())[0]?.v ?? '?';
  } finally {
    await ch.close();
  }
}

/**
 * BENCH_SINK_NODE_OPTIONS: NODE_OPTIONS for the sink-worker alone, e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile it, or a heap limit to see what memory it needs.
 */
const sinkNodeOptions = (name: PolarisServiceName): Record<string, string> =>
  name === 'sink-worker' && process.env.BENCH_SINK_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SINK_NODE_OPTIONS } : {};

/** The services already bundled by this bench process: each is built once per run. */
const bundled = new Set<PolarisServiceName>();

/**
 * Starts only the named services, on BENCH_PORTS, bound to loopback, with the given env on top.
 * Logs go to <stack>/logs/bench/<service>.log. They run from the bundle the image ships
 * (scripts/build.mjs, built here first), not through tsx: tsx's transform cache alone added
 * ~100 MiB to each process, so memory figures measured from source were not the product's.
 */
export async function startBenchServices(
  cfg: DevConfig,
  names: readonly PolarisServiceName[],
  env: Partial<Record<PolarisServiceName, Record<string, string>>>,
  cleanup: Cleanup,
): Promise<RunningSystem> {
  const loopback = { LOG_LEVEL: 'info', HTTP_HOST: '127.0.0.1', GRPC_HOST: '127.0.0.1', OPS_HOST: '127.0.0.1' };
  const specs = localSpecs(BENCH_PORTS, loopback)
    .filter((s) => names.includes(s.name))
    .map((s) => ({ ...s, env: { ...s.env, ...sinkNodeOptions(s.name), ...env[s.name] } }));
  const unbuilt = names.filter((n) => !bundled.has(n));
  if (unbuilt.length > 0) {
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), ...unbuilt], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (const n of unbuilt) bundled.add(n);
  }
  const system = await startServices({ repoRoot, logDir: path.join(cfg.stackDir, 'logs', 'bench'), specs, readyDeadlineMs: 60_000, runFrom: 'bundle' });
  cleanup.add('stop services', () => system.stop());
  return system;
}
