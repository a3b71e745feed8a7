import { readdirSync } from 'node:fs';
import { ClickHouseError, type ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { CLICKHOUSE_MIGRATIONS_DIR } from './migrations-dir';
import { parseMigrationFileName } from './migrate/sql-statements';

// The migration runner's bookkeeping (migrate/migration-runner.ts): one row per applied file.
const APPLIED_VERSIONS_SQL = 'SELECT version FROM schema_migrations';
// No schema_migrations table, or no database at all: migrate has never run here.
const NOT_MIGRATED_CODES = new Set([60, 81]); // UNKNOWN_TABLE, UNKNOWN_DATABASE
// 18.16 answers `Code: 81, e.displayText() = DB::Exception: …`, which @clickhouse/client does not
// parse into a ClickHouseError; newer servers `Code: 81. DB::Exception: …` (as sink-worker's store-error.ts).
const SERVER_CODE = /^Code: (\d+)[.,] (?:e\.displayText\(\) = )?DB::Exception/;

function serverErrorCode(err: unknown): number | undefined {
  if (err instanceof ClickHouseError && /^\d+$/.test(err.code)) return Number(err.code);
  const match = err instanceof Error ? SERVER_CODE.exec(err.message) : null;
  return match?.[1] ? Number(match[1]) : undefined;
}

const shippedByDir = new Map<string, Array<{ version: number; fileName: string }>>();

/**
 * The migrations this build ships (clickhouse/migrations, copied into the image beside the
 * bundles), read once per process: the schema every service of this build needs.
 */
function shippedMigrations(dir: string): Array<{ version: number; fileName: string }> {
  let shipped = shippedByDir.get(dir);
  if (!shipped) {
    shipped = readdirSync(dir)
      .flatMap((fileName) => {
        const parsed = parseMigrationFileName(fileName);
        return parsed ? [{ version: parsed.version, fileName }] : [];
      })
      .sort((a, b) => a.version - b.version);
    shippedByDir.set(dir, shipped);
  }
  return shipped;
}

/**
 * The shipped migrations not recorded as applied in the client's database, oldest first (empty:
 * the schema is current). An authenticated query: a wrong user or password rejects.
 */
export async function missingClickHouseMigrations(client: Pick<ClickHouseClient, 'query'>, dir: string = CLICKHOUSE_MIGRATIONS_DIR): Promise<string[]> {
  let applied: Set<number>;
  try {
    const result = await client.query({ query: APPLIED_VERSIONS_SQL, format: 'JSONEachRow' });
    const rows = z.array(z.object({ version: z.coerce.number().int() })).parse(await result.json());
    applied = new Set(rows.map((r) => r.version));
  } catch (err) {
    if (!NOT_MIGRATED_CODES.has(serverErrorCode(err) ?? -1)) throw err;
    applied = new Set();
  }
  return shippedMigrations(dir)
    .filter((m) => !applied.has(m.version))
    .map((m) => m.fileName);
}

/** Why a database is not ready for this build, in words for /readyz; undefined when it is. */
export function schemaBehindReason(missing: readonly string[]): string | undefined {
  if (missing.length === 0) return undefined;
  const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
  return `schema is behind: ${missing[0]} not applied${more}; run polaris migrate`;
}
