import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CLICKHOUSE_MIGRATIONS_DIR } from '@polaris/clickhouse/migrate';
import { throwawayDatabase } from '@polaris/clickhouse/testing';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '@polaris/postgres/migrate';
import { TOPICS } from '@polaris/shared/contracts';
import { loadOperatorConfig } from '../config';
import { ensureTopics } from './kafka-topics';

// Every store is migrated from EMPTY here, in places of the test's own (a fresh PostgreSQL
// database, ClickHouse database and topics), twice: a broken first migration cannot hide behind
// the stack that bootstrap has already migrated, and no other test file sees these runs.

const config = loadOperatorConfig();
const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
const quiet = () => undefined;
const sqlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();

/** The same server as the stack's database, another database name. */
function databaseUrl(name: string): string {
  const url = new URL(config.postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: config.postgres.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('polaris migrate, from empty stores', () => {
  const pgDatabase = `it_migrate_${suffix}`;
  const topics = TOPICS.map((t) => ({ ...t, topic: `it.migrate.${suffix}.${t.topic}` }));
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('PostgreSQL: applies every migration once, in order, and a second run applies none', async () => {
    await onServer((c) => c.query(`CREATE DATABASE ${pgDatabase}`));
    cleanups.push(() => onServer((c) => c.query(`DROP DATABASE IF EXISTS ${pgDatabase}`)));
    const url = databaseUrl(pgDatabase);
    const expected = sqlFiles(POSTGRES_MIGRATIONS_DIR).map((f) => f.replace(/\.sql$/, ''));

    expect((await migratePostgres({ databaseUrl: url, dir: POSTGRES_MIGRATIONS_DIR, log: quiet })).applied).toEqual(expected);
    expect((await migratePostgres({ databaseUrl: url, dir: POSTGRES_MIGRATIONS_DIR, log: quiet })).applied).toEqual([]);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY run_on, id');
      expect(rows.map((r) => r.name)).toEqual(expected);
      // The schema is really there, not only its bookkeeping.
      const tables = await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['api_keys', 'organizations']));
    } finally {
      await db.end();
    }
  });

  it('ClickHouse: records each migration exactly once with its checksum, also after a second run', async () => {
    const db = await throwawayDatabase({ migrated: false });
    cleanups.push(() => db.drop());
    await db.migrate();
    await db.migrate();
    // No DISTINCT: a duplicated bookkeeping row would be a bug of its own.
    const result = await db.client.query({ query: 'SELECT version, checksum FROM schema_migrations ORDER BY version', format: 'JSONEachRow' });
    expect(await result.json()).toEqual(
      sqlFiles(CLICKHOUSE_MIGRATIONS_DIR).map((f) => ({
        version: Number(f.slice(0, 4)),
        checksum: createHash('sha256').update(readFileSync(path.join(CLICKHOUSE_MIGRATIONS_DIR, f))).digest('hex'),
      })),
    );
    const tables = await db.client.query({ query: 'SHOW TABLES', format: 'JSONEachRow' });
    expect((await tables.json<{ name: string }>()).map((t) => t.name)).toContain('events_raw');
  });

  it('Kafka: creates the topics with their partition counts, and a second run creates none', async () => {
    const options = { connection: config.kafka, replicationFactor: config.kafka.replicationFactor, topics, log: quiet };
    const admin = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: topics.map((t) => t.topic) }).catch(() => undefined);
      await admin.disconnect();
    });
    expect((await ensureTopics(options)).created.sort()).toEqual(topics.map((t) => t.topic).sort());
    expect((await ensureTopics(options)).created).toEqual([]);
    const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
    expect(metadata.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(topics.map((t) => [t.topic, t.partitions]).sort());
  });
});
