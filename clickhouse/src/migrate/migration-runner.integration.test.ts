import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testClickHouseConnection } from '../testing/throwaway-database';
import { migrateClickHouse, MigrationError } from './migration-runner';

// A throwaway database and migrations folder, so this never touches the real schema.
const connection = testClickHouseConnection();
const database = `polaris_test_${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'polaris-ch-migrations-'));
const server = createClient(connection);
const lines: string[] = [];
const run = () => migrateClickHouse({ ...connection, database, dir, log: (l) => lines.push(l) });

beforeAll(() => {
  writeFileSync(path.join(dir, '0001_first.sql'), 'CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = Memory;\n');
  writeFileSync(
    path.join(dir, '0002_second.sql'),
    '-- two statements; comments on their own lines\nCREATE TABLE IF NOT EXISTS b\n(\n    y String\n)\nENGINE = Memory;\n\nINSERT INTO b VALUES (\'x;y\');\n',
  );
});

afterAll(async () => {
  await server.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ClickHouse migration runner', () => {
  it('applies files in order, one statement per request, then is a no-op', async () => {
    expect((await run()).applied).toEqual(['0001_first.sql', '0002_second.sql']);
    expect((await run()).applied).toEqual([]);

    const rows = await server.query({ query: `SELECT version, name FROM ${database}.schema_migrations ORDER BY version`, format: 'JSONEachRow' });
    expect(await rows.json()).toEqual([
      { version: 1, name: 'first' },
      { version: 2, name: 'second' },
    ]);
    const b = await server.query({ query: `SELECT y FROM ${database}.b`, format: 'JSONEachRow' });
    expect(await b.json()).toEqual([{ y: 'x;y' }]);
  });

  it('refuses to run when an applied file changed, and applies nothing new', async () => {
    writeFileSync(path.join(dir, '0001_first.sql'), 'CREATE TABLE IF NOT EXISTS a (x UInt16) ENGINE = Memory;\n');
    writeFileSync(path.join(dir, '0003_third.sql'), 'CREATE TABLE IF NOT EXISTS c (z UInt8) ENGINE = Memory;\n');
    const refused = await run().then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(MigrationError);
    expect((refused as Error).message).toMatch(/^clickhouse: 0001_first\.sql changed after it was applied/);
    const tables = await server.query({ query: `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`, format: 'JSONEachRow' });
    expect(await tables.json()).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'schema_migrations' }]);
  });
});
