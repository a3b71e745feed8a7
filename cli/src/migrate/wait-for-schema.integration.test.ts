import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { throwawayDatabase } from '@polaris/clickhouse/testing';
import { migratePostgres, POSTGRES_MIGRATIONS_DIR } from '@polaris/postgres/migrate';
import { TOPICS } from '@polaris/shared/contracts';
import { eventually } from '@polaris/shared/testing';
import { loadOperatorConfig, type OperatorConfig } from '../config';
import { ensureTopics } from './kafka-topics';
import { waitForSchema } from './wait-for-schema';

// `polaris migrate --wait`, the services' init container: it applies nothing, and returns only
// once the migrate Job of the same release has brought each store to this build's schema.

const config = loadOperatorConfig();
const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
const quiet = () => undefined;

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: config.postgres.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('waitForSchema', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function emptyPostgres(name: string): Promise<OperatorConfig> {
    await onServer((c) => c.query(`CREATE DATABASE ${name}`));
    cleanups.push(() => onServer((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
    const url = new URL(config.postgres.url);
    url.pathname = `/${name}`;
    return { ...config, postgres: { url: url.toString() } };
  }

  it('waits while the schema is behind, and returns once migrate has run (every store)', async () => {
    const pgConfig = await emptyPostgres(`it_wait_${suffix}`);
    const ch = await throwawayDatabase({ migrated: false });
    cleanups.push(() => ch.drop());
    const topics = TOPICS.map((t) => ({ ...t, topic: `it.wait.${suffix}.${t.topic}` }));
    cleanups.push(async () => {
      const admin = new Kafka({ brokers: config.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: topics.map((t) => t.topic) }).catch(() => undefined);
      await admin.disconnect();
    });
    const stores: OperatorConfig = { ...pgConfig, clickhouse: { ...config.clickhouse, database: ch.database } };

    const lines: string[] = [];
    let done = false;
    const waiting = waitForSchema(stores, { stores: ['postgres', 'clickhouse', 'kafka'], timeoutMs: 60_000, intervalMs: 100, topics, log: (l) => lines.push(l) }).then(() => {
      done = true;
    });
    // Each store has said why it is waiting before anything is migrated.
    const stated = () => ['postgres', 'clickhouse', 'kafka'].every((store) => lines.some((l) => l.startsWith(`${store}: waiting`)));
    await eventually(async () => (stated() || done ? true : undefined), 'every store to report why it waits', 20_000, 50);
    expect(done).toBe(false);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^postgres: waiting: migration 1700000000001_identity not applied/),
        expect.stringMatching(/^clickhouse: waiting: migration 0001_events_raw\.sql not applied/),
        expect.stringMatching(new RegExp(`^kafka: waiting: topic it\\.wait\\.${suffix}\\.`)),
      ]),
    );

    await migratePostgres({ databaseUrl: stores.postgres.url, dir: POSTGRES_MIGRATIONS_DIR, log: quiet });
    await ch.migrate();
    await ensureTopics({ connection: config.kafka, replicationFactor: 1, topics, log: quiet });
    await waiting;
    expect(lines).toEqual(expect.arrayContaining(['postgres: schema ready', 'clickhouse: schema ready', 'kafka: schema ready']));
  });

  it('gives up after its timeout, naming what is missing', async () => {
    const stores = await emptyPostgres(`it_wait_timeout_${suffix}`);
    await expect(waitForSchema(stores, { stores: ['postgres'], timeoutMs: 500, intervalMs: 100, log: quiet })).rejects.toThrow(
      /not ready after[\s\S]*postgres: migration 1700000000001_identity not applied/,
    );
  });
});
