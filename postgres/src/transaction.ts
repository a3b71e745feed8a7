import type pg from 'pg';
import type { Queryable } from './pool';

/**
 * What a multi-statement write needs: a pool (services: one client is borrowed for the
 * transaction) or one client (the CLI's, or the transaction of a caller). Any Queryable is one of
 * the two: a pool is told by its `connect`, and anything else is used as one connection.
 */
export type Transactable = Queryable;

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

export const isPool = (db: Transactable): db is pg.Pool => 'idleCount' in db && 'connect' in db;

// Clients inside a transaction opened here. A repository's multi-statement write called with
// such a client (a caller's withOrg) runs in that transaction instead of nesting a BEGIN in it,
// which PostgreSQL would ignore and whose COMMIT would end the caller's transaction half-way.
const open = new WeakSet<Queryable>();

/** Whether `db` is a client inside a transaction that inTransaction (or withOrg) opened. */
export const inOpenTransaction = (db: Transactable): boolean => open.has(db);

/**
 * Runs `work` in one transaction: committed if it returns, rolled back if it throws, so a failed
 * operation leaves nothing half-made. Called with a client already inside one (a caller's
 * withOrg), `work` joins it: the caller's transaction, its isolation level and its organization.
 * `setup` is SQL sent with the BEGIN, in the same round trip (no parameters: simple protocol).
 */
export async function inTransaction<T>(
  db: Transactable,
  work: (tx: Queryable) => Promise<T>,
  isolation: Isolation = 'read committed',
  setup?: string,
): Promise<T> {
  if (inOpenTransaction(db)) return work(db);
  const client: Queryable = isPool(db) ? await db.connect() : db;
  // A client whose ROLLBACK failed is in an unknown state: the pool must not hand it out again.
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}${setup ? `; ${setup}` : ''}`);
    open.add(client);
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      open.delete(client);
    }
  } finally {
    if (isPool(db)) (client as pg.PoolClient).release(broken);
  }
}
