import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * postgres/migrations. Resolved two levels up from this module, which holds both for the source
 * (postgres/src/migrations-dir.ts) and for every bundle that inlines it (scripts/build.mjs writes
 * <workspace>/dist/<entry>.js, e.g. cli/dist/polaris.js); the image copies postgres/migrations
 * to the same place beside them. So this file stays at this depth. Apart from migrate.ts so that
 * the services' readiness (schema-version.ts) knows the migrations without loading node-pg-migrate.
 */
export const POSTGRES_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'postgres', 'migrations');
