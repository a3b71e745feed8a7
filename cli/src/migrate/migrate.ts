import { CLICKHOUSE_MIGRATIONS_DIR, migrateClickHouse } from '@polaris/clickhouse/migrate';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '@polaris/postgres/migrate';
import { TOPICS } from '@polaris/shared/contracts';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';
import { ensureTopics } from './kafka-topics';

/** Brings PostgreSQL, ClickHouse and Kafka to the schema this checkout expects. Idempotent. */
export async function migrateAll(config: OperatorConfig, log: (line: string) => void): Promise<void> {
  // Independent stores: run side by side; report every failure, not just the first.
  const results = await Promise.allSettled([
    migratePostgres({ databaseUrl: config.postgres.url, dir: POSTGRES_MIGRATIONS_DIR, log, ...(config.postgres.appUrl ? { appDatabaseUrl: config.postgres.appUrl } : {}) }),
    migrateClickHouse({ ...config.clickhouse, dir: CLICKHOUSE_MIGRATIONS_DIR, log }),
    ensureTopics({ connection: config.kafka, replicationFactor: config.kafka.replicationFactor, topics: TOPICS, log }),
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
