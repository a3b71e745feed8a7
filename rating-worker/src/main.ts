import { createPool, pingPostgres } from '@polaris/postgres';
import { runService } from '@polaris/shared/service';
import { createUnaryWrapper, startGrpcServer } from '@polaris/shared/grpc';
import { loadRatingWorkerConfig } from './config';
import { identityService } from './identity/identity.grpc';

// The rating-worker owns PostgreSQL. Today it serves polaris.v1.Identity; the BullMQ rating
// jobs join it here when invoicing lands.
await runService({
  name: 'rating-worker',
  loadConfig: loadRatingWorkerConfig,
  build: async ({ config, logger, registry }) => {
    const pool = createPool(config, 'rating-worker');
    pool.on('error', (err) => logger.error({ err }, 'idle postgres client error'));
    const grpc = await startGrpcServer({
      host: config.GRPC_HOST,
      port: config.GRPC_PORT,
      services: [identityService(pool, createUnaryWrapper(logger, registry))],
      logger,
    });
    return {
      checks: [{ name: 'postgres', check: () => pingPostgres(pool) }],
      parts: [
        { name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) },
        { name: 'postgres', stop: () => pool.end() },
      ],
    };
  },
});
