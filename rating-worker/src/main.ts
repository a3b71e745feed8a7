import { initTelemetry, createLogger, createMetricsRegistry, createPool, createUnaryWrapper, pingPostgres, runService, startGrpcServer, startOpsServer } from '@polaris/shared';
import { loadRatingWorkerConfig } from './config';
import { IdentityRepository } from './identity/identity.repository';
import { identityService } from './identity/identity.grpc';

const SERVICE = 'rating-worker';
const config = loadRatingWorkerConfig();
const telemetry = initTelemetry(config.OTEL_SERVICE_NAME ?? SERVICE, config.OTEL_EXPORTER_OTLP_ENDPOINT);
const logger = createLogger(SERVICE, config.LOG_LEVEL);

// The rating-worker owns PostgreSQL. Today it serves polaris.v1.Identity; the BullMQ rating
// jobs join it here when invoicing lands.
await runService({
  name: SERVICE,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  start: async () => {
    const registry = createMetricsRegistry(SERVICE);
    const pool = createPool(config, SERVICE);
    pool.on('error', (err) => logger.error({ err }, 'idle postgres client error'));
    const unary = createUnaryWrapper(logger, registry);
    const grpc = await startGrpcServer({
      host: config.GRPC_HOST,
      port: config.GRPC_PORT,
      services: [identityService(new IdentityRepository(pool), unary)],
      logger,
    });
    const ops = await startOpsServer({
      host: config.OPS_HOST,
      port: config.OPS_PORT,
      registry,
      checks: [{ name: 'postgres', check: () => pingPostgres(pool) }],
      logger,
    });
    return [
      { name: 'readiness', stop: async () => ops.markShuttingDown() },
      { name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) },
      { name: 'postgres', stop: () => pool.end() },
      { name: 'ops', stop: () => ops.stop() },
      { name: 'telemetry', stop: () => telemetry.shutdown() },
    ];
  },
});
