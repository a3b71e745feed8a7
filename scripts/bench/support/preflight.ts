import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { sqlString } from '@polaris/clickhouse';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { CliError } from '@polaris/cli';
import type { DevConfig } from '../../src/config';
import { isPortOpen, portOwner } from '../../src/stack/ports';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function postgresProblem(cfg: DevConfig): Promise<string | undefined> {
  const db = new pg.Client({ connectionString: cfg.postgres.url, connectionTimeoutMillis: 3_000 });
  try {
    await db.connect();
    const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('api_keys')::text AS t");
    return rows[0]?.t ? undefined : 'postgres: not migrated (no api_keys table)';
  } catch (err) {
    return `postgres: ${message(err)}`;
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function clickhouseProblem(cfg: DevConfig): Promise<string | undefined> {
  const ch = createClient({ url: cfg.clickhouse.url, username: cfg.clickhouse.username, password: cfg.clickhouse.password, request_timeout: 5_000 });
  try {
    const rs = await ch.query({
      query: `SELECT count() AS n FROM system.tables WHERE database = ${sqlString(cfg.clickhouse.database)} AND name = 'events_raw'`,
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ n: string }>();
    return Number(row?.n) === 1 ? undefined : `clickhouse: not migrated (no ${cfg.clickhouse.database}.events_raw)`;
  } catch (err) {
    return `clickhouse: ${message(err)}`;
  } finally {
    await ch.close();
  }
}

async function kafkaProblem(cfg: DevConfig): Promise<string | undefined> {
  const admin = new Kafka({
    clientId: 'polaris-bench-preflight',
    brokers: cfg.kafka.brokers,
    connectionTimeout: 2_000,
    retry: { retries: 1 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    return topics.includes(EVENTS_TOPIC) ? undefined : `kafka: not migrated (no ${EVENTS_TOPIC} topic)`;
  } catch (err) {
    return `kafka: ${message(err)}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const STORE_PROBLEMS = { postgres: postgresProblem, clickhouse: clickhouseProblem, kafka: kafkaProblem } as const;
export type BenchStore = keyof typeof STORE_PROBLEMS;

/**
 * Fails with one clear message when the local stack is down or not migrated (of it, the `stores`
 * the bench uses), or when a port the bench's own copy of the services needs is taken (another
 * bench still running?).
 */
export async function preflight(cfg: DevConfig, ports: readonly number[], stores: readonly BenchStore[] = ['postgres', 'clickhouse', 'kafka']): Promise<void> {
  const problems = (await Promise.all(stores.map((store) => STORE_PROBLEMS[store](cfg)))).filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw new CliError(
      `the local stack is not up or not migrated:\n  ${problems.join('\n  ')}\n` + 'start it with: npx polaris stack up && npx polaris migrate',
    );
  }
  const taken: string[] = [];
  for (const port of ports) {
    if (await isPortOpen(port)) taken.push(`${port}${await portOwner(port).then((o) => (o ? ` (${o})` : ''))}`);
  }
  if (taken.length > 0) throw new CliError(`ports the bench needs are in use: ${taken.join(', ')}; is another bench still running?`);
}
