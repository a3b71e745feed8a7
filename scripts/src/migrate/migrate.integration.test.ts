import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadCliConfig } from '../config';
import { CLICKHOUSE_MIGRATIONS_DIR as clickhouseMigrationsDir } from '@polaris/clickhouse/migrate';
import { postgresMigrationsDir } from '../paths';
import { migrateAll, TOPICS } from './migrate';

const config = loadCliConfig();

describe('polaris migrate', () => {
  it('runs twice without error and records every migration', async () => {
    await migrateAll(config, () => undefined);
    await migrateAll(config, () => undefined);

    const db = new pg.Client({ connectionString: config.postgres.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY run_on, id');
      const expected = readdirSync(postgresMigrationsDir).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, ''));
      expect(rows.map((r) => r.name)).toEqual(expected.sort());
    } finally {
      await db.end();
    }

    const ch = createClient({ ...config.clickhouse });
    try {
      const result = await ch.query({ query: 'SELECT DISTINCT version, checksum FROM schema_migrations ORDER BY version', format: 'JSONEachRow' });
      const files = readdirSync(clickhouseMigrationsDir).filter((f) => f.endsWith('.sql')).sort();
      expect(await result.json()).toEqual(
        files.map((f) => ({
          version: Number(f.slice(0, 4)),
          checksum: createHash('sha256').update(readFileSync(path.join(clickhouseMigrationsDir, f))).digest('hex'),
        })),
      );
    } finally {
      await ch.close();
    }

    const admin = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: TOPICS.map((t) => t.topic) });
      expect(metadata.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(TOPICS.map((t) => [t.topic, t.partitions]).sort());
    } finally {
      await admin.disconnect();
    }
  });
});
