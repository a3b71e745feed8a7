// First: SIGTERM/SIGINT are handled from here on, while the rest loads (shared/src/service/signals.ts).
import '@polaris/shared/signals';
import { createPool, pingPostgres } from '@polaris/postgres';
import { runService } from '@polaris/shared/service';
import { createInternalAuth, createUnaryWrapper, startGrpcServer } from '@polaris/shared/grpc';
import { loadRatingWorkerConfig } from './config';
import { identityService } from './identity/identity.grpc';
import { meterCatalogService } from './meters/meter-catalog.grpc';
import { metersService } from './meters/meters.grpc';

// The rating-worker owns PostgreSQL. Today it serves polaris.v1.Identity, polaris.v1.Meters and
// polaris.v1.MeterCatalog; the BullMQ rating jobs join it here when invoicing lands.
await runService({
  name: 'rating-worker',
  loadConfig: loadRatingWorkerConfig,
  build: async ({ config, logger, registry }) => {
    const pool = createPool(config, 'rating-worker');
    pool.on('error', (err) => logger.error({ err }, 'idle postgres client error'));
    const unary = createUnaryWrapper(logger, registry);
    const grpc = await startGrpcServer({
      host: config.GRPC_HOST,
      port: config.GRPC_PORT,
      services: [
        identityService(pool, unary),
        metersService(pool, unary),
        meterCatalogService(pool, unary, {
          leaseTtlMs: config.METER_LEASE_TTL_MS,
          leaseGraceMs: config.METER_LEASE_GRACE_MS,
          claimTtlMs: config.BACKFILL_CLAIM_TTL_MS,
          maxAttempts: config.BACKFILL_MAX_ATTEMPTS,
        }),
      ],
      auth: createInternalAuth(config, 'rating-worker'),
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
