import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * clickhouse/migrations. Resolved two levels up from this module, which holds both for the source
 * (clickhouse/src/migrations-dir.ts) and for every bundle that inlines it (scripts/build.mjs
 * writes <workspace>/dist/<entry>.js, e.g. cli/dist/polaris.js); the image copies
 * clickhouse/migrations to the same place beside them. So this file stays at this depth.
 */
export const CLICKHOUSE_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'clickhouse', 'migrations');
