import pg from 'pg';
import type { Queryable } from './pool';

/**
 * What a multi-statement write needs: a pool (services: one client is borrowed for the
 * transaction) or one client of its own (the CLI).
 */
export type Transactable = pg.Pool | pg.ClientBase;

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

const isPool = (db: Transactable): db is pg.Pool => 'idleCount' in db;

/**
 * Runs `work` in one transaction: committed if it returns, rolled back if it throws, so a failed
 * operation leaves nothing half-made. `db` must not be inside a transaction already.
 */
export async function inTransaction<T>(db: Transactable, work: (tx: Queryable) => Promise<T>, isolation: Isolation = 'read committed'): Promise<T> {
  const client = isPool(db) ? await db.connect() : db;
  // A client whose ROLLBACK failed is in an unknown state: the pool must not hand it out again.
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    }
  } finally {
    if (isPool(db)) (client as pg.PoolClient).release(broken);
  }
}
