import { runner } from 'node-pg-migrate';

export { POSTGRES_MIGRATIONS_DIR } from './migrations-dir';

export interface PostgresMigrateOptions {
  databaseUrl: string;
  dir: string;
  log: (line: string) => void;
}

/** Applies postgres/migrations (node-pg-migrate SQL files) up to the latest; recorded in `schema_migrations`. */
export async function migratePostgres(options: PostgresMigrateOptions): Promise<{ applied: string[] }> {
  const ran = await runner({
    databaseUrl: options.databaseUrl,
    dir: options.dir,
    migrationsTable: 'schema_migrations',
    direction: 'up',
    count: Infinity,
    checkOrder: true,
    singleTransaction: true,
    // Two migrate runs at once (parallel test files, two deploy jobs) queue instead of failing.
    advisoryLockMode: 'wait',
    logger: {
      debug: () => undefined,
      info: (message: string) => {
        if (message.startsWith('### MIGRATION')) options.log(`postgres: ${message.replace(/^### MIGRATION /, 'applying ').replace(/ ###$/, '')}`);
      },
      warn: (message: string) => options.log(`postgres: warning: ${message}`),
      error: (message: string) => options.log(`postgres: error: ${message}`),
    },
  });
  const applied = ran.map((m) => m.name);
  options.log(applied.length === 0 ? 'postgres: up to date' : `postgres: applied ${applied.join(', ')}`);
  return { applied };
}
