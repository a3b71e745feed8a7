import pg from 'pg';
import { PolarisError } from '@polaris/shared/errors';

/**
 * The role the services connect as (migration 006): not superuser, not owner, NOBYPASSRLS, DML
 * only, so row-level security holds for every query they make. Fixed, because the migration
 * grants to it by name.
 */
export const APP_ROLE = 'polaris_app';

/** The local stack's password for APP_ROLE (a development value, like the owner's `polaris`). */
export const LOCAL_APP_PASSWORD = 'polaris_app';

/** `url` with the app role and its local password in place of the owner's credentials. */
export function localAppUrl(ownerUrl: string): string {
  const url = new URL(ownerUrl);
  url.username = APP_ROLE;
  url.password = LOCAL_APP_PASSWORD;
  return url.toString();
}

/** The app role's password, read from the URL the services connect with (APP_DATABASE_URL). */
export function appRolePassword(appDatabaseUrl: string, field = 'APP_DATABASE_URL'): string {
  let url: URL;
  try {
    url = new URL(appDatabaseUrl);
  } catch {
    throw new PolarisError('invalid_argument', 'invalid_app_database_url', `${field} is not a URL`, field);
  }
  if (decodeURIComponent(url.username) !== APP_ROLE) {
    throw new PolarisError('invalid_argument', 'invalid_app_database_url', `${field} must connect as ${APP_ROLE} (the role migration 006 grants to), not ${JSON.stringify(decodeURIComponent(url.username))}`, field);
  }
  const password = decodeURIComponent(url.password);
  if (password === '') throw new PolarisError('invalid_argument', 'invalid_app_database_url', `${field} has no password`, field);
  return password;
}

// ALTER ROLE of one role from two sessions at once (parallel test databases of one cluster) can
// fail with "tuple concurrently updated"; the second try finds the row settled.
const CONCURRENT_UPDATE = 'tuple concurrently updated';

/**
 * Lets the app role log in with `password`, as the owner (who needs CREATEROLE or superuser).
 * Idempotent: run by every `polaris migrate`, so rotating the password is changing
 * APP_DATABASE_URL and migrating (then restarting the services with the new URL).
 */
export async function setAppRolePassword(ownerUrl: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    // ALTER ROLE takes no parameters: the password goes in as a quoted literal.
    const sql = `ALTER ROLE ${APP_ROLE} WITH LOGIN PASSWORD ${pg.escapeLiteral(password)}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (err) {
        if (attempt >= 5 || !(err instanceof Error) || !err.message.includes(CONCURRENT_UPDATE)) throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/** Whether `url` logs in (the app role has LOGIN and this password). */
export async function canLogIn(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return true;
  } catch (err) {
    // 28P01 wrong password, 28000 no LOGIN: anything else (server down) is not ours to hide.
    const code = (err as { code?: unknown }).code;
    if (code === '28P01' || code === '28000') return false;
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * For a local stack or a test server: makes sure the app role logs in with LOCAL_APP_PASSWORD. A
 * fresh cluster's migration 006 creates it without LOGIN (`polaris migrate` sets the password of
 * APP_DATABASE_URL, which the dev CLI points at the local stack). Changes it only when it cannot
 * log in yet, so parallel tests rarely race for the role.
 */
export async function ensureLocalAppLogin(ownerUrl: string): Promise<void> {
  if (await canLogIn(localAppUrl(ownerUrl))) return;
  await setAppRolePassword(ownerUrl, LOCAL_APP_PASSWORD);
}
