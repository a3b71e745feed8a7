import { runner } from 'node-pg-migrate';
import { APP_ROLE, appRolePassword, setAppRolePassword } from './app-role';

export { POSTGRES_MIGRATIONS_DIR } from './migrations-dir';
export { APP_ROLE, ensureLocalAppLogin, localAppUrl } from './app-role';

export interface PostgresMigrateOptions {
  databaseUrl: string;
  dir: string;
  log: (line: string) => void;
  /**
   * The URL the services connect with (APP_DATABASE_URL): its password becomes the app role's,
   * after the migrations (migration 006 creates the role). Unset: the role's password is left as
   * it is (NOLOGIN until some migrate sets one).
   */
  appDatabaseUrl?: string;
}

/**
 * Applies postgres/migrations (node-pg-migrate SQL files) up to the latest, recorded in
 * `schema_migrations`, then gives the app role its password (appDatabaseUrl).
 */
export async function migratePostgres(options: PostgresMigrateOptions): Promise<{ applied: string[] }> {
  // Checked before anything runs: a wrong APP_DATABASE_URL fails the migrate, not a service later.
  const appPassword = options.appDatabaseUrl === undefined ? undefined : appRolePassword(options.appDatabaseUrl);
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
  if (appPassword === undefined) {
    options.log(`postgres: APP_DATABASE_URL unset: role ${APP_ROLE} keeps its password (the services cannot connect until one is set)`);
  } else {
    await setAppRolePassword(options.databaseUrl, appPassword);
    options.log(`postgres: role ${APP_ROLE} logs in with the password of APP_DATABASE_URL`);
  }
  return { applied };
}
