import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from './migrate';
import { createPool, postgresOwnerConfigSchema } from './pool';
import { pingPostgres } from './schema-version';

// Issue 13: readiness was `SELECT 1`, true of an empty database. Now a service is ready only when
// every migration this build ships is recorded as applied, and the reason names the missing one.

const baseUrl = postgresOwnerConfigSchema.parse(process.env).DATABASE_URL;
const suffix = randomUUID().replace(/-/g, '').slice(0, 12);

function urlOf(database: string, password?: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  if (password !== undefined) url.password = password;
  return url.toString();
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('pingPostgres (readiness)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });
  let count = 0;
  const database = async (): Promise<string> => {
    const name = `it_ready_${suffix}_${count++}`;
    await onServer((c) => c.query(`CREATE DATABASE ${name}`));
    cleanups.push(() => onServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
    return name;
  };
  const pool = (url: string) => {
    const p = createPool({ DATABASE_URL: url, DATABASE_POOL_MAX: 1 }, 'it-readiness');
    cleanups.push(() => p.end());
    return p;
  };

  it('is ready on a migrated database', async () => {
    const db = await database();
    await migratePostgres({ databaseUrl: urlOf(db), dir: POSTGRES_MIGRATIONS_DIR, log: () => undefined });
    await expect(pingPostgres(pool(urlOf(db)))).resolves.toBeUndefined();
  });

  it('is not ready with a wrong password', async () => {
    const db = await database();
    await migratePostgres({ databaseUrl: urlOf(db), dir: POSTGRES_MIGRATIONS_DIR, log: () => undefined });
    await expect(pingPostgres(pool(urlOf(db, 'wrong-password')))).rejects.toThrow(/password authentication failed/);
  });

  it('is not ready on an empty database (SELECT 1 would be), naming the first missing migration', async () => {
    const db = await database();
    await expect(pingPostgres(pool(urlOf(db)))).rejects.toThrow(/schema is behind: 1700000000001_identity not applied.*polaris migrate/);
  });

  it('is not ready when the schema is behind this build (migrate of an older release ran)', async () => {
    const db = await database();
    const older = mkdtempSync(path.join(tmpdir(), 'polaris-older-pg-migrations-'));
    cleanups.push(async () => rmSync(older, { recursive: true, force: true }));
    await migratePostgres({ databaseUrl: urlOf(db), dir: older, log: () => undefined });
    const p = pool(urlOf(db));
    await expect(pingPostgres(p)).rejects.toThrow(/schema is behind: 1700000000001_identity not applied/);
    await migratePostgres({ databaseUrl: urlOf(db), dir: POSTGRES_MIGRATIONS_DIR, log: () => undefined });
    await expect(pingPostgres(p)).resolves.toBeUndefined();
  });
});
