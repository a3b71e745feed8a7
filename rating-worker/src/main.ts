// First: SIGTERM/SIGINT are handled from here on, while the rest loads (shared/src/service/signals.ts).
import '@polaris/shared/signals';
import { createPool, pingPostgres } from '@polaris/postgres';
import { runService } from '@polaris/shared/service';
import { createInternalAuth, createUnaryWrapper, startGrpcServer } from '@polaris/shared/grpc';
import { loadRatingWorkerConfig } from './config';
import { identityService } from './identity/identity.grpc';
import { apiKeysService } from './identity/api-keys.grpc';
import { meterCatalogService } from './meters/meter-catalog.grpc';
import { metersService } from './meters/meters.grpc';
import { customersService } from './billing/customers.grpc';
import { plansService } from './billing/plans.grpc';
import { subscriptionsService } from './billing/subscriptions.grpc';
import { invoicesService } from './billing/invoices.grpc';
import { startRating } from './rating/rating-service';
import { startAdminPort } from './admin';
import { startThresholds } from './thresholds/threshold-service';
import { usageThresholdsService } from './thresholds/usage-thresholds.grpc';
import { startNotifications } from './notifications/notifications-service';
import { webhooksService } from './notifications/webhooks.grpc';
import { startDeadLetterWatch } from './notifications/dead-letters/dead-letter-watch-service';

// The rating-worker owns PostgreSQL. It serves polaris.v1.Identity, Meters, MeterCatalog and the
// billing services, and runs the BullMQ rating jobs that turn usage into invoices (docs/billing.md).
await runService({
  name: 'rating-worker',
  loadConfig: loadRatingWorkerConfig,
  build: async ({ config, logger, registry }) => {
    const pool = createPool(config, 'rating-worker');
    pool.on('error', (err) => logger.error({ err }, 'idle postgres client error'));
    const unary = createUnaryWrapper(logger, registry);
    const auth = createInternalAuth(config, 'rating-worker');
    // Usage client, rater, and (RATING_ENABLED) the rating queue, its worker and the scan schedule.
    const rating = startRating({ config, pool, auth, logger, registry });
    // Usage thresholds: their evaluation queue, worker and schedule (RATING_ENABLED), rating-worker/src/thresholds/.
    const thresholds = startThresholds({ config, pool, auth, logger, registry });
    // Webhooks and email: the outbox dispatcher and deliverer (NOTIFICATIONS_ENABLED), rating-worker/src/notifications/.
    const notifications = startNotifications({ config, pool, logger, registry });
    // dead_letters.growing: counts the dead-letter topic per organization (DEAD_LETTER_WATCH_ENABLED).
    const deadLetterWatch = startDeadLetterWatch({ config, pool, logger, registry });
    const grpc = await startGrpcServer({
      host: config.GRPC_HOST,
      port: config.GRPC_PORT,
      services: [
        identityService(pool, unary),
        apiKeysService(pool, unary),
        metersService(pool, unary),
        meterCatalogService(pool, unary, {
          leaseTtlMs: config.METER_LEASE_TTL_MS,
          leaseGraceMs: config.METER_LEASE_GRACE_MS,
          claimTtlMs: config.BACKFILL_CLAIM_TTL_MS,
          maxAttempts: config.BACKFILL_MAX_ATTEMPTS,
        }),
        customersService(pool, unary),
        plansService(pool, unary),
        subscriptionsService(pool, unary),
        invoicesService(pool, rating.rater, unary),
        usageThresholdsService(pool, unary),
        webhooksService({ pool, enqueue: notifications.enqueue, allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS }, unary),
      ],
      auth,
      logger,
    });
    // bull-board over the rating queue, for admin API keys (ADMIN_PORT; rating-worker/src/admin/).
    const admin = await startAdminPort({ config, queues: [rating.queue, thresholds.queue, notifications.queue].filter((q) => q !== undefined), db: pool, logger });
    return {
      checks: [{ name: 'postgres', check: () => pingPostgres(pool) }, ...rating.checks, ...notifications.checks, ...deadLetterWatch.checks],
      parts: [
        { name: 'grpc', stop: () => grpc.stop(config.SHUTDOWN_TIMEOUT_MS / 2) },
        // Before the rating jobs: the board reads through the queue's Redis connection.
        ...admin,
        // The rating worker finishes its jobs (worker.close) before the pool they use closes.
        ...rating.parts,
        ...thresholds.parts,
        ...notifications.parts,
        // Before the pool: a batch in hand records its alerts first.
        ...deadLetterWatch.parts,
        { name: 'postgres', stop: () => pool.end() },
      ],
    };
  },
});
