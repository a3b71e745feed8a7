import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { toClickHouseDateTime } from '../date-time';
import { parseMigrationFileName, splitStatements } from './sql-statements';

export { CLICKHOUSE_MIGRATIONS_DIR } from '../migrations-dir';

/**
 * Why a migration run stopped, in words for the operator ("clickhouse: …"). Its own class rather
 * than the CLI's, so this package never imports tooling; the CLI prints the message as it is.
 */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface ClickHouseMigrateOptions {
  url: string;
  database: string;
  username: string;
  password: string;
  /** Folder of NNNN_name.sql files: CLICKHOUSE_MIGRATIONS_DIR, or a test's own. */
  dir: string;
  log: (line: string) => void;
}

interface MigrationFile {
  version: number;
  name: string;
  fileName: string;
  sql: string;
  checksum: string;
}

const appliedRow = z.object({ version: z.coerce.number().int(), name: z.string(), checksum: z.string() });

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The runner's own bookkeeping table (exported for the modern-ClickHouse compatibility test). */
export const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY version`;
export const APPLIED_MIGRATIONS_SQL = 'SELECT version, name, checksum FROM schema_migrations ORDER BY version';

export function readMigrationFiles(dir: string): MigrationFile[] {
  const files: MigrationFile[] = [];
  for (const fileName of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const parsed = parseMigrationFileName(fileName);
    if (!parsed) throw new MigrationError(`clickhouse: ${path.join(dir, fileName)} is not named NNNN_name.sql (lowercase name)`);
    const clash = files.find((f) => f.version === parsed.version);
    if (clash) throw new MigrationError(`clickhouse: ${clash.fileName} and ${fileName} share version ${parsed.version}`);
    const sql = readFileSync(path.join(dir, fileName), 'utf8');
    files.push({ ...parsed, fileName, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return files;
}

async function appliedMigrations(client: ClickHouseClient): Promise<Map<number, z.infer<typeof appliedRow>>> {
  const result = await client.query({
    query: APPLIED_MIGRATIONS_SQL,
    format: 'JSONEachRow',
  });
  const rows = z.array(appliedRow).parse(await result.json());
  return new Map(rows.map((r) => [r.version, r]));
}

/**
 * Applies the migrations in `options.dir` (clickhouse/migrations) in version order and records each in `schema_migrations`.
 * ClickHouse DDL is not transactional: a migration that fails half way is not recorded and runs
 * again from its first statement, so every statement must be idempotent (IF NOT EXISTS).
 * There is no lock: run one migrate at a time per database.
 */
export async function migrateClickHouse(options: ClickHouseMigrateOptions): Promise<{ applied: string[] }> {
  // The database name ends up in SQL text, so it must be a plain identifier (no escaping needed).
  if (!IDENTIFIER.test(options.database)) throw new MigrationError(`clickhouse: invalid database name ${JSON.stringify(options.database)}`);
  const files = readMigrationFiles(options.dir);
  const connection = { url: options.url, username: options.username, password: options.password, application: 'polaris-migrate' };

  const server = createClient(connection);
  try {
    await server.command({ query: `CREATE DATABASE IF NOT EXISTS \`${options.database}\`` });
  } finally {
    await server.close();
  }

  const client = createClient({ ...connection, database: options.database });
  try {
    await client.command({ query: SCHEMA_MIGRATIONS_DDL });
    const applied = await appliedMigrations(client);

    // Check every applied file before applying anything new: history must not have been edited.
    for (const file of files) {
      const recorded = applied.get(file.version);
      if (recorded && recorded.checksum !== file.checksum) {
        throw new MigrationError(
          `clickhouse: ${file.fileName} changed after it was applied to database ${options.database} ` +
            `(recorded sha256 ${recorded.checksum.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…). ` +
            'Applied migrations are immutable: revert the edit and add a new migration instead.',
        );
      }
    }
    const known = new Set(files.map((f) => f.version));
    for (const version of applied.keys()) {
      if (!known.has(version)) options.log(`clickhouse: warning: applied version ${version} has no file in ${options.dir}`);
    }

    const done: string[] = [];
    for (const file of files.filter((f) => !applied.has(f.version))) {
      const statements = splitStatements(file.sql);
      for (const [index, statement] of statements.entries()) {
        try {
          await client.command({ query: statement });
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new MigrationError(`clickhouse: ${file.fileName} statement ${index + 1} of ${statements.length} failed: ${reason}`);
        }
      }
      await client.insert({
        table: 'schema_migrations',
        format: 'JSONEachRow',
        values: [
          {
            version: file.version,
            name: file.name,
            checksum: file.checksum,
            applied_at: toClickHouseDateTime(Date.now()),
          },
        ],
      });
      options.log(`clickhouse: applied ${file.fileName} (${statements.length} statement${statements.length === 1 ? '' : 's'})`);
      done.push(file.fileName);
    }
    if (done.length === 0) options.log(`clickhouse: up to date (${files.length} migration${files.length === 1 ? '' : 's'})`);
    return { applied: done };
  } finally {
    await client.close();
  }
}
