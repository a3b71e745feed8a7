import { randomUUID } from 'node:crypto';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { loadConfig } from '@polaris/shared/config';
import { clickhouseConfigSchema } from '../client';
import { CLICKHOUSE_MIGRATIONS_DIR, migrateClickHouse } from '../migrate/migration-runner';

export interface ClickHouseConnection {
  url: string;
  username: string;
  password: string;
}

/**
 * The local stack's ClickHouse (`npx polaris stack up`), unless the environment points elsewhere:
 * read through the same config schema as the services, so tests and services agree on defaults.
 */
export function testClickHouseConnection(): ClickHouseConnection {
  const cfg = loadConfig(clickhouseConfigSchema);
  return { url: cfg.CLICKHOUSE_URL, username: cfg.CLICKHOUSE_USER, password: cfg.CLICKHOUSE_PASSWORD };
}

export interface ThrowawayDatabase {
  database: string;
  client: ClickHouseClient;
  /** Applies the real migrations (call it later to simulate a store that comes back). */
  migrate(): Promise<void>;
  /** Closes the client and drops the database. */
  drop(): Promise<void>;
}

export interface ThrowawayOptions {
  /** Apply the real migrations at once (default true); false leaves no database at all yet. */
  migrated?: boolean;
  /** Default: a random `it_…` name. */
  database?: string;
  connection?: ClickHouseConnection;
}

/**
 * A database of its own, migrated with the project's real migrations, so that tests (and bench
 * runs) never see each other's rows.
 */
export async function throwawayDatabase(opts: ThrowawayOptions = {}): Promise<ThrowawayDatabase> {
  const connection = opts.connection ?? testClickHouseConnection();
  const database = opts.database ?? `it_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const client = createClient({ ...connection, database, log: { level: ClickHouseLogLevel.OFF } });
  const migrate = async () => {
    await migrateClickHouse({ ...connection, database, dir: CLICKHOUSE_MIGRATIONS_DIR, log: () => undefined });
  };
  const db: ThrowawayDatabase = {
    database,
    client,
    migrate,
    drop: async () => {
      await client.close();
      const admin = createClient(connection);
      try {
        await admin.command({ query: `DROP DATABASE IF EXISTS \`${database}\`` });
      } finally {
        await admin.close();
      }
    },
  };
  if (opts.migrated ?? true) {
    // A migration that fails half way leaves a database behind: drop it, as no caller can.
    await migrate().catch(async (err: unknown) => {
      await db.drop().catch(() => undefined);
      throw err;
    });
  }
  return db;
}
