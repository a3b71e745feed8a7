import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clickhouseConfigSchema, createClickHouse, pingClickHouse } from './client';
import { migrateClickHouse } from './migrate/migration-runner';
import { testClickHouseConnection, throwawayDatabase, type ThrowawayDatabase } from './testing/throwaway-database';

// Issue 13: readiness was GET /ping, which answers "Ok." to anyone, with any password and before
// any migration. Now a service is ready only when an authenticated query shows every migration
// this build ships as applied, and the reason says which is missing.

const connection = testClickHouseConnection();
const client = (database: string, password = connection.password) =>
  createClickHouse(
    clickhouseConfigSchema.parse({
      CLICKHOUSE_URL: connection.url,
      CLICKHOUSE_DATABASE: database,
      CLICKHOUSE_USER: connection.username,
      CLICKHOUSE_PASSWORD: password,
    }),
  );

describe('pingClickHouse (readiness)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });
  const database = async (migrated: boolean): Promise<ThrowawayDatabase> => {
    const db = await throwawayDatabase({ migrated });
    cleanups.push(() => db.drop());
    return db;
  };

  it('is ready on a migrated database', async () => {
    const db = await database(true);
    const ch = client(db.database);
    cleanups.push(() => ch.close());
    await expect(pingClickHouse(ch)).resolves.toBeUndefined();
  });

  it('is not ready with a wrong password, although /ping answers', async () => {
    const db = await database(true);
    const ch = client(db.database, `${connection.password}-wrong`);
    cleanups.push(() => ch.close());
    expect((await ch.ping()).success).toBe(true);
    await expect(pingClickHouse(ch)).rejects.toThrow(/password|authentication/i);
  });

  it('is not ready before migrate ran, naming the first missing migration', async () => {
    const db = await database(false);
    const ch = client(db.database);
    cleanups.push(() => ch.close());
    await expect(pingClickHouse(ch)).rejects.toThrow(/schema is behind: 0001_events_raw\.sql not applied.*polaris migrate/);
  });

  it('is not ready when the schema is behind this build (migrate of an older release ran)', async () => {
    const db = await database(false);
    // An older release shipping no migration at all: bookkeeping table there, nothing recorded.
    const older = mkdtempSync(path.join(tmpdir(), 'polaris-older-migrations-'));
    cleanups.push(async () => rmSync(older, { recursive: true, force: true }));
    await migrateClickHouse({ ...connection, database: db.database, dir: older, log: () => undefined });
    const ch = client(db.database);
    cleanups.push(() => ch.close());
    await expect(pingClickHouse(ch)).rejects.toThrow(/schema is behind: 0001_events_raw\.sql not applied/);
    await db.migrate();
    await expect(pingClickHouse(ch)).resolves.toBeUndefined();
  });
});
