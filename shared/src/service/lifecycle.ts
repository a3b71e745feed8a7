import type { Registry } from 'prom-client';
import type { BaseConfig } from '../config';
import { createLogger, type Logger } from './logger';
import { createMetricsRegistry } from './metrics';
import { startOpsServer, type LivenessCheck, type ReadinessCheck } from './ops-server';
import { initTelemetry } from './telemetry';
import { onStopSignal } from './signals';

/** Something that must be stopped on shutdown. */
export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  registry: Registry;
  /**
   * For a part that has failed for good (a consumer that stopped and will not restart): logs
   * it, drains the rest in order and exits non-zero, so the orchestrator restarts the process.
   */
  fail(reason: Error): void;
}

export interface BuiltService {
  /** What /readyz asks; empty means "ready when started". */
  checks: ReadinessCheck[];
  /** What /healthz asks besides "the event loop answers"; a failure there gets the pod restarted. */
  liveness?: LivenessCheck[];
  /** Stopped in this order: stop accepting → stop consumers → flush writers → close pools. */
  parts: Stoppable[];
}

/**
 * The one way to start a service. Telemetry comes first, then logs and metrics, then `build`
 * (which connects and listens), then the ops server (/healthz /readyz /metrics).
 *
 * On SIGTERM/SIGINT: readiness goes off first, so load balancers drain; then the parts stop in
 * order; then the ops server and telemetry, all under SHUTDOWN_TIMEOUT_MS. Past the deadline the
 * process exits non-zero rather than hang: the orchestrator would kill it anyway, and a clear log
 * line beats a silent SIGKILL.
 */
export async function runService<C extends BaseConfig>(opts: {
  name: string;
  loadConfig: () => C;
  build: (ctx: ServiceContext<C>) => Promise<BuiltService>;
}): Promise<void> {
  let config: C;
  try {
    config = opts.loadConfig();
  } catch (err) {
    createLogger(opts.name, 'info').fatal({ err }, `${opts.name} cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const telemetry = initTelemetry(config.OTEL_SERVICE_NAME ?? opts.name, config.OTEL_EXPORTER_OTLP_ENDPOINT);
  const logger = createLogger(opts.name, config.LOG_LEVEL);
  const registry = createMetricsRegistry(opts.name);

  let stopping = false;
  let parts: Stoppable[] = [];
  let failure: Error | undefined;
  const fail = (reason: Error) => {
    if (failure) return;
    failure = reason;
    logger.fatal({ err: reason }, `${opts.name} cannot go on: ${reason.message}; exiting so that it is restarted`);
    void shutdown('fatal');
  };
  try {
    const built = await opts.build({ config, logger, registry, fail });
    const ops = await startOpsServer({
      host: config.OPS_HOST, port: config.OPS_PORT, registry, checks: built.checks, liveness: built.liveness, logger,
    });
    parts = [
      { name: 'readiness', stop: async () => ops.markShuttingDown() },
      ...built.parts,
      { name: 'ops', stop: () => ops.stop() },
      { name: 'telemetry', stop: () => telemetry.shutdown() },
    ];
  } catch (err) {
    logger.fatal({ err }, `${opts.name} failed to start`);
    process.exit(1);
  }
  logger.info(`${opts.name} started`);

  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${opts.name} shutting down`);
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown deadline passed, exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
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
    process.exit(failed || failure ? 1 : 0);
  }
  // Until here a signal stopped the process at once (./signals, imported first by main.ts): the
  // ops server was not up, so nothing could be routed here yet.
  onStopSignal((signal) => void shutdown(signal));
}
