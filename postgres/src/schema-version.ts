import { readdirSync } from 'node:fs';
import { z } from 'zod';
import { POSTGRES_MIGRATIONS_DIR } from './migrations-dir';
import type { Queryable } from './pool';

// node-pg-migrate's bookkeeping (migrate.ts sets migrationsTable): one row per applied file,
// named as the file without its extension.
const APPLIED_NAMES_SQL = 'SELECT name FROM schema_migrations';
const UNDEFINED_TABLE = '42P01';

const shippedByDir = new Map<string, string[]>();

/**
 * The migrations this build ships (postgres/migrations, copied into the image beside the
 * bundles), read once per process: the schema every service of this build needs. node-pg-migrate
 * runs them in this order.
 */
function shippedMigrations(dir: string): string[] {
  let shipped = shippedByDir.get(dir);
  if (!shipped) {
    shipped = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.slice(0, -'.sql'.length))
      .sort();
    shippedByDir.set(dir, shipped);
  }
  return shipped;
}

/**
 * The shipped migrations not recorded as applied, oldest first (empty: the schema is current).
 * The query runs as the service's own user, so a wrong password or a missing grant rejects.
 */
export async function missingPostgresMigrations(db: Queryable, dir: string = POSTGRES_MIGRATIONS_DIR): Promise<string[]> {
  let applied: Set<string>;
  try {
    const { rows } = await db.query(APPLIED_NAMES_SQL);
    applied = new Set(z.array(z.object({ name: z.string() })).parse(rows).map((r) => r.name));
  } catch (err) {
    // No bookkeeping table: migrate has never run on this database.
    if ((err as { code?: unknown }).code !== UNDEFINED_TABLE) throw err;
    applied = new Set();
  }
  return shippedMigrations(dir).filter((m) => !applied.has(m));
}

/** Why a database is not ready for this build, in words for /readyz; undefined when it is. */
export function schemaBehindReason(missing: readonly string[]): string | undefined {
  if (missing.length === 0) return undefined;
  const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
  return `schema is behind: ${missing[0]} not applied${more}; run polaris migrate`;
}

/**
 * Readiness: a query as the service's user shows every migration this build ships as applied.
 * (`SELECT 1` holds on an empty database too.) A schema behind the code is not ready, naming
 * the missing migration.
 */
export async function pingPostgres(pool: Queryable, opts: { migrationsDir?: string } = {}): Promise<void> {
  const reason = schemaBehindReason(await missingPostgresMigrations(pool, opts.migrationsDir));
  if (reason) throw new Error(reason);
}
