import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { apiKeys, organizations } from '@polaris/postgres';
import { ensureLocalAppLogin, localAppUrl, migratePostgres, POSTGRES_MIGRATIONS_DIR } from '@polaris/postgres/migrate';
import type { ApiKeyScope } from '@polaris/shared/auth';
import type { Tenant } from './tenants';

const DEFAULT_SCOPES: ApiKeyScope[] = ['events:write', 'usage:read'];

const BASE_URL = process.env.DATABASE_URL ?? 'postgres://polaris:polaris@127.0.0.1:55432/polaris';

async function withClient<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TableLock {
  release(): Promise<void>;
}

export interface ThrowawayPostgres {
  database: string;
  /** The database as its owner (bypasses row-level security): fixtures, as the operator CLI. */
  url: string;
  /** DATABASE_URL for a private rating-worker: the services' role, under row-level security. */
  appUrl: string;
  /** An organization with one key, in this database only. */
  createTenant(): Promise<Tenant>;
  /** One more key of an organization of this database (events:write and usage:read unless told). */
  createApiKey(orgId: string, scopes?: ApiKeyScope[]): Promise<string>;
  /**
   * Holds an ACCESS EXCLUSIVE lock on `table` in a transaction of its own: every query that
   * reads the table waits, in PostgreSQL, until `release`. `SELECT 1` (the readiness ping) does not.
   */
  lock(table: 'organizations' | 'api_keys'): Promise<TableLock>;
  /** Queries of `applicationName` (the pool's application_name) now waiting on a lock in this database. */
  waitingQueries(applicationName: string): Promise<number>;
  drop(): Promise<void>;
}

/**
 * A PostgreSQL database of its own, migrated with the real migrations, for a private
 * rating-worker: a test may lock its tables (holding Identity calls in flight, at a point it can
 * count) without slowing any other test.
 */
export async function throwawayPostgres(): Promise<ThrowawayPostgres> {
  const database = `e2e_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = new URL(BASE_URL);
  url.pathname = `/${database}`;
  const dbUrl = url.toString();
  // The name is ours and matches [a-z0-9_]: safe as an identifier.
  await withClient(BASE_URL, (c) => c.query(`CREATE DATABASE ${database}`));
  const drop = () => withClient(BASE_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).then(() => undefined);
  try {
    await migratePostgres({ databaseUrl: dbUrl, dir: POSTGRES_MIGRATIONS_DIR, log: () => undefined });
    await ensureLocalAppLogin(dbUrl);
  } catch (err) {
    await drop().catch(() => undefined);
    throw err;
  }
  return {
    database,
    url: dbUrl,
    appUrl: localAppUrl(dbUrl),
    createTenant: () =>
      withClient(dbUrl, async (client) => {
        const slug = `e2e-${randomUUID().slice(0, 8)}`;
        const org = await organizations.create(client, { name: slug, slug });
        const { key } = await apiKeys.create(client, { organizationId: org.id, name: 'e2e', scopes: DEFAULT_SCOPES });
        return { orgId: org.id, apiKey: key };
      }),
    createApiKey: (orgId, scopes = DEFAULT_SCOPES) =>
      withClient(dbUrl, async (client) => (await apiKeys.create(client, { organizationId: orgId, name: 'e2e', scopes })).key),
    async lock(table) {
      const client = new pg.Client({ connectionString: dbUrl, application_name: 'e2e-lock' });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      } catch (err) {
        await client.end();
        throw err;
      }
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          try {
            await client.query('COMMIT');
          } finally {
            await client.end();
          }
        },
      };
    },
    waitingQueries: (applicationName) =>
      withClient(BASE_URL, async (c) => {
        const { rows } = await c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock'`,
          [database, applicationName],
        );
        return rows[0]?.n ?? 0;
      }),
    drop,
  };
}
