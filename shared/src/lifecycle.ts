import type { Logger } from './logger';

/** Something that must be stopped on shutdown, in the order it was registered. */
export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/**
 * Runs a service: builds it with `start`, then on SIGTERM/SIGINT stops its parts in the order
 * `start` returned them (stop accepting → stop consumers → flush writers → close pools) under
 * one hard deadline. Past the deadline the process exits non-zero rather than hang: the
 * orchestrator would kill it anyway, and a clear log line beats a silent SIGKILL.
 */
export async function runService(opts: {
  name: string;
  logger: Logger;
  shutdownTimeoutMs: number;
  start: () => Promise<Stoppable[]>;
}): Promise<void> {
  const { logger } = opts;
  let parts: Stoppable[];
  try {
    parts = await opts.start();
  } catch (err) {
    logger.fatal({ err }, `${opts.name} failed to start`);
    process.exit(1);
  }
  logger.info(`${opts.name} started`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${opts.name} shutting down`);
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: opts.shutdownTimeoutMs }, 'shutdown deadline passed, exiting');
      process.exit(1);
    }, opts.shutdownTimeoutMs);
    deadline.unref();
    let failed = false;
    for (const part of parts) {
      try {
        await part.stop();
        logger.debug({ part: part.name }, 'stopped');
      } catch (err) {
        failed = true;
        logger.error({ err, part: part.name }, 'stop failed');
      }
    }
    clearTimeout(deadline);
    logger.info(`${opts.name} stopped`);
    process.exit(failed ? 1 : 0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
