import { clickhouseConfigSchema, createClickHouse, missingClickHouseMigrations } from '@polaris/clickhouse';
import { missingPostgresMigrations } from '@polaris/postgres';
import { TOPICS, type TopicSpec } from '@polaris/shared/contracts';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import pg from 'pg';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';
import { formatDuration } from '../format';
import type { SchemaStore } from './schema-stores';


/** One look at a store: undefined when its schema is what this build needs, else why not. */
type Probe = { store: SchemaStore; check: () => Promise<string | undefined>; close: () => Promise<void> };

function behind(missing: readonly string[]): string | undefined {
  if (missing.length === 0) return undefined;
  return `migration ${missing[0]} not applied${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`;
}

function postgresProbe(config: OperatorConfig): Probe {
  // One connection per look: a store that restarts between two looks is simply asked again.
  return {
    store: 'postgres',
    check: async () => {
      const db = new pg.Client({ connectionString: config.postgres.url, connectionTimeoutMillis: 5_000 });
      await db.connect();
      try {
        return behind(await missingPostgresMigrations(db));
      } finally {
        await db.end().catch(() => undefined);
      }
    },
    close: async () => undefined,
  };
}

function clickhouseProbe(config: OperatorConfig): Probe {
  const { url, database, username, password } = config.clickhouse;
  const client = createClickHouse(
    clickhouseConfigSchema.parse({
      CLICKHOUSE_URL: url,
      CLICKHOUSE_DATABASE: database,
      CLICKHOUSE_USER: username,
      CLICKHOUSE_PASSWORD: password,
      CLICKHOUSE_REQUEST_TIMEOUT_MS: '5000',
    }),
  );
  return { store: 'clickhouse', check: async () => behind(await missingClickHouseMigrations(client)), close: () => client.close() };
}

function kafkaProbe(config: OperatorConfig, topics: readonly TopicSpec[]): Probe {
  const { brokers, ssl, sasl } = config.kafka;
  const kafka = new Kafka({ clientId: 'polaris-migrate-wait', brokers, ssl, sasl, logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 0 } });
  let admin: Admin | undefined;
  const drop = async () => {
    await admin?.disconnect().catch(() => undefined);
    admin = undefined;
  };
  return {
    store: 'kafka',
    check: async () => {
      try {
        if (!admin) {
          admin = kafka.admin();
          await admin.connect();
        }
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.topic)).map((t) => t.topic);
        return missing.length === 0 ? undefined : `topic ${missing.join(', ')} not created`;
      } catch (err) {
        await drop();
        throw err;
      }
    },
    close: drop,
  };
}

export interface WaitOptions {
  stores: readonly SchemaStore[];
  timeoutMs: number;
  intervalMs?: number;
  /** The topics to wait for (default: every Polaris topic). */
  topics?: readonly TopicSpec[];
  log: (line: string) => void;
}

/**
 * Waits until every store in `stores` has the schema this build needs: each shipped migration
 * recorded as applied (PostgreSQL, ClickHouse) and each topic created (Kafka). Applies nothing:
 * this is the services' init container, waiting for the migrate Job of the same release. A store
 * that cannot be reached yet is waited for too; past `timeoutMs` it fails with the last reason
 * of each store still waiting.
 */
export async function waitForSchema(config: OperatorConfig, options: WaitOptions): Promise<void> {
  const started = Date.now();
  const factories: Record<SchemaStore, () => Probe> = {
    postgres: () => postgresProbe(config),
    clickhouse: () => clickhouseProbe(config),
    kafka: () => kafkaProbe(config, options.topics ?? TOPICS),
  };
  const waiting = new Map(options.stores.map((store) => [store, factories[store]()]));
  const reasons = new Map<SchemaStore, string>();
  try {
    for (;;) {
      for (const [store, probe] of waiting) {
        let reason: string | undefined;
        try {
          reason = await probe.check();
        } catch (err) {
          reason = `unreachable: ${err instanceof Error ? err.message : String(err)}`;
        }
        if (reason === undefined) {
          options.log(`${store}: schema ready`);
          waiting.delete(store);
          await probe.close();
        } else if (reasons.get(store) !== reason) {
          options.log(`${store}: waiting: ${reason}`);
          reasons.set(store, reason);
        }
      }
      if (waiting.size === 0) return;
      if (Date.now() - started >= options.timeoutMs) {
        const left = [...waiting.keys()].map((store) => `${store}: ${reasons.get(store) ?? 'no answer'}`);
        throw new CliError(`migrate --wait: the schema is not ready after ${formatDuration(options.timeoutMs)}:\n${left.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 2_000));
    }
  } finally {
    for (const probe of waiting.values()) await probe.close();
  }
}
