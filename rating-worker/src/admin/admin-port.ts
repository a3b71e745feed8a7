import type { Queue } from 'bullmq';
import type { Queryable } from '@polaris/postgres';
import type { Logger, Stoppable } from '@polaris/shared/service';
import { postgresKeyAuthenticator } from './admin-keys';
import { startQueueBoard } from './queue-board';

/**
 * The admin port as main.ts runs it: nothing when ADMIN_PORT is 0 or there are no queues (a
 * replica with RATING_ENABLED=false), otherwise the queue board over `queues`, its API keys checked in `db`. The part it returns goes before the queues' own in the
 * shutdown order: the board reads through their Redis connection.
 */
export async function startAdminPort(opts: {
  config: { ADMIN_HOST: string; ADMIN_PORT: number };
  queues: readonly Queue[];
  db: Queryable;
  logger: Logger;
}): Promise<Stoppable[]> {
  if (opts.config.ADMIN_PORT === 0 || opts.queues.length === 0) {
    opts.logger.info(opts.config.ADMIN_PORT === 0 ? 'queue board off (ADMIN_PORT=0)' : 'queue board off: no queues here (RATING_ENABLED=false)');
    return [];
  }
  const board = await startQueueBoard({
    host: opts.config.ADMIN_HOST,
    port: opts.config.ADMIN_PORT,
    queues: opts.queues,
    authenticate: postgresKeyAuthenticator(opts.db),
    logger: opts.logger,
  });
  return [{ name: 'queue-board', stop: () => board.stop() }];
}
