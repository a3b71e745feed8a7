import pg from 'pg';
import type { OperatorConfig } from '../config';

/** One PostgreSQL connection for the length of a command. */
export async function withDatabase<T>(config: OperatorConfig, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: config.postgres.url });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}
