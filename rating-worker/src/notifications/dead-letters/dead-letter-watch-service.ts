import type { Pool } from '@polaris/postgres';
import { createKafka, kafkaConnection } from '@polaris/shared/kafka';
import type { Logger, ReadinessCheck, Stoppable } from '@polaris/shared/service';
import type { Registry } from 'prom-client';
import type { RatingWorkerConfig } from '../../config';
import { createDeadLetterMetrics } from './dead-letter-metrics';
import { watchGroupFor } from './dead-letter-watch-config';
import { DeadLetterWatcher } from './dead-letter-watcher';

export interface DeadLetterWatchParts {
  checks: ReadinessCheck[];
  parts: Stoppable[];
}

/** The dead-letter watcher of the rating-worker, built from its config (DEAD_LETTER_WATCH_ENABLED). */
export function startDeadLetterWatch(deps: { config: RatingWorkerConfig; pool: Pool; logger: Logger; registry: Registry }): DeadLetterWatchParts {
  const { config, pool, registry } = deps;
  if (!config.DEAD_LETTER_WATCH_ENABLED) return { checks: [], parts: [] };
  const logger = deps.logger.child({ part: 'dead-letter-watch' });
  const kafka = createKafka({ clientId: 'polaris-rating-worker', connection: kafkaConnection(config), logger });
  const watcher = new DeadLetterWatcher(
    kafka,
    pool,
    {
      topic: config.EVENTS_DLQ_TOPIC,
      groupId: config.DEAD_LETTER_WATCH_GROUP_ID ?? watchGroupFor(config.DATABASE_URL),
      windowMs: config.DEAD_LETTER_WINDOW_MS,
      alertMin: config.DEAD_LETTER_ALERT_MIN,
    },
    logger,
    createDeadLetterMetrics(registry),
  );
  watcher.start();
  return {
    // Not critical: the alerts wait in the topic while the broker is away; gRPC and rating go on.
    checks: [{ name: 'dead-letter-watch', check: async () => watcher.health(), critical: false }],
    parts: [{ name: 'dead-letter-watch', stop: () => watcher.stop() }],
  };
}
