import pg from 'pg';
import { z } from 'zod';

export type Pool = pg.Pool;

const databaseUrl = z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL');

/** The local stack's database as its owner: migrations, the operator CLI, test fixtures. */
export const LOCAL_OWNER_DATABASE_URL = 'postgres://polaris:polaris@127.0.0.1:55432/polaris';
/** The local stack's database as the services' role (migration 006; app-role.ts). */
export const LOCAL_APP_DATABASE_URL = 'postgres://polaris_app:polaris_app@127.0.0.1:55432/polaris';

/**
 * A service's connection. DATABASE_URL names the app role (polaris_app), never the owner: as the
 * owner (a superuser, or BYPASSRLS) row-level security would not hold the service to one tenant.
 */
export const postgresConfigSchema = z.object({
  DATABASE_URL: databaseUrl.default(LOCAL_APP_DATABASE_URL),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
});

/**
 * The owner's connection (migrate, the operator CLI): DATABASE_URL as the role that owns the
 * tables; APP_DATABASE_URL, the services' URL, whose password migrate gives the app role.
 */
export const postgresOwnerConfigSchema = z.object({
  DATABASE_URL: databaseUrl.default(LOCAL_OWNER_DATABASE_URL),
  APP_DATABASE_URL: databaseUrl.optional(),
});
export type PostgresConfig = z.infer<typeof postgresConfigSchema>;

/**
 * What a repository needs: a pool (services) and a single client (the CLI, transactions) both
 * fit. Rows come back as `unknown` on purpose: every repository checks them with zod.
 */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export function createPool(cfg: PostgresConfig, applicationName: string): pg.Pool {
  return new pg.Pool({
    connectionString: cfg.DATABASE_URL,
    max: cfg.DATABASE_POOL_MAX,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    // A runaway query must not hold a pool slot forever.
    statement_timeout: 15_000,
  });
}
