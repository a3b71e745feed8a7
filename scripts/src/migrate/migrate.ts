import { EVENTS_DLQ_TOPIC, EVENTS_TOPIC } from '@polaris/shared';
import type { CliConfig } from '../config';
import { CliError } from '../errors';
import { CLICKHOUSE_MIGRATIONS_DIR as clickhouseMigrationsDir, migrateClickHouse } from '@polaris/clickhouse/migrate';
import { ensureTopics } from './kafka-topics';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR as postgresMigrationsDir } from '@polaris/postgres/migrate';

export const TOPICS = [
  { topic: EVENTS_TOPIC, partitions: 6 },
  { topic: EVENTS_DLQ_TOPIC, partitions: 6 },
] as const;

/** Brings PostgreSQL, ClickHouse and Kafka to the schema this checkout expects. Idempotent. */
export async function migrateAll(config: CliConfig, log: (line: string) => void): Promise<void> {
  // Independent stores: run side by side; report every failure, not just the first.
  const results = await Promise.allSettled([
    migratePostgres({ databaseUrl: config.postgres.url, dir: postgresMigrationsDir, log }),
    migrateClickHouse({ ...config.clickhouse, dir: clickhouseMigrationsDir, log }),
    ensureTopics({ ...config.kafka, topics: TOPICS, log }),
  ]);
  const stores = ['postgres', 'clickhouse', 'kafka'];
  const failures = results.flatMap((r, i) => {
    if (r.status === 'fulfilled') return [];
    const message = r.reason instanceof Error ? r.reason.message : String(r.reason);
    const store = stores[i] ?? 'unknown';
    return [message.startsWith(`${store}:`) ? message : `${store}: ${message}`];
  });
  if (failures.length > 0) throw new CliError(`migrate failed:\n${failures.join('\n')}`);
}
