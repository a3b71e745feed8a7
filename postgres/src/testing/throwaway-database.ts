import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '@polaris/shared/config';
import { ensureLocalAppLogin, localAppUrl } from '../app-role';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '../migrate';
import { createPool, postgresOwnerConfigSchema, type Pool } from '../pool';

export interface ThrowawayPostgres {
  /** The database as its owner (bypasses row-level security): for fixtures, like the operator CLI. */
  url: string;
  pool: Pool;
  /**
   * The database as the services' role (polaris_app, row-level security applies): hand it to a
   * service under test as DATABASE_URL, or query through appPool as a service does.
   */
  appUrl: string;
  appPool: Pool;
  /** Closes the pools and drops the database. */
  drop(): Promise<void>;
}

/**
 * A PostgreSQL database of its own, migrated with the project's real migrations, on the server the
 * environment points at (the local stack by default). For tests whose state is global rather than
 * per organization (the meter catalog revision, sink leases, the backfill queue): a run of them
 * must neither see nor claim another test's rows.
 */
export async function throwawayPostgres(opts: { poolMax?: number; serverUrl?: string } = {}): Promise<ThrowawayPostgres> {
  // A bench names the server of its own stack config; tests take the environment's.
  const server = opts.serverUrl ?? loadConfig(postgresOwnerConfigSchema).DATABASE_URL;
  const database = `it_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = new URL(server);
  url.pathname = `/${database}`;
  // CREATE/DROP DATABASE take no parameters; the name is made above from hex digits alone.
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${database}`);
  const drop = () => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  try {
    await migratePostgres({ databaseUrl: url.toString(), dir: POSTGRES_MIGRATIONS_DIR, log: () => undefined });
    await ensureLocalAppLogin(url.toString());
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  const pool = createPool({ DATABASE_URL: url.toString(), DATABASE_POOL_MAX: opts.poolMax ?? 4 }, 'it-throwaway');
  // DROP … WITH (FORCE) ends connections still closing after pool.end(): an idle client's error
  // then, not a test failure. Queries report their own errors.
  pool.on('error', () => undefined);
  const appUrl = localAppUrl(url.toString());
  const appPool = createPool({ DATABASE_URL: appUrl, DATABASE_POOL_MAX: opts.poolMax ?? 4 }, 'it-throwaway-app');
  appPool.on('error', () => undefined);
  return {
    url: url.toString(),
    pool,
    appUrl,
    appPool,
    drop: async () => {
      await Promise.all([pool.end(), appPool.end()]);
      await drop();
    },
  };
}
