import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { migrateClickHouse } from '../../../scripts/src/migrate/clickhouse';
import { TEST_CLICKHOUSE_URL } from './env';

const URL_ = TEST_CLICKHOUSE_URL;
const MIGRATIONS = fileURLToPath(new URL('../../../clickhouse/migrations', import.meta.url));

export interface ThrowawayClickHouse {
  database: string;
  client: ClickHouseClient;
  /** Applies the real migrations (call it later to simulate a store that comes back). */
  migrate(): Promise<void>;
  drop(): Promise<void>;
}

/**
 * A database of its own per test file, migrated with the project's real migrations, so
 * integration tests never see each other's rows.
 */
export async function throwawayClickHouse(opts: { migrated?: boolean } = {}): Promise<ThrowawayClickHouse> {
  const database = `it_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = createClient({ url: URL_ });
  const client = createClient({ url: URL_, database, log: { level: ClickHouseLogLevel.OFF } });
  const migrate = async () => {
    await migrateClickHouse({ url: URL_, database, username: 'default', password: '', dir: MIGRATIONS, log: () => undefined });
  };
  if (opts.migrated ?? true) await migrate();
  return {
    database,
    client,
    migrate,
    drop: async () => {
      await client.close();
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await admin.close();
    },
  };
}
