import pg from 'pg';
import { z } from 'zod';

export type Pool = pg.Pool;

export const postgresConfigSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').default('postgres://polaris:polaris@127.0.0.1:55432/polaris'),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
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
