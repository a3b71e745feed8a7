/**
 * bench:notify — webhook notifications, measured twice:
 *
 * The notifier alone (rating-worker/src/notifications), in this process (its real queue, worker,
 * dispatcher and deliverer, over the local stack's Redis and a throwaway PostgreSQL database),
 * with its production defaults except the private-target guard (the receiver is on loopback) and
 * WEBHOOK_CONCURRENCY (BENCH_NOTIFY_CONCURRENCY):
 *
 *   1. Backlog: BENCH_NOTIFY_EVENTS events (default 5,000) are recorded in the outbox at once;
 *      timed until the receiver has every one: deliveries per second.
 *   2. Trickle: BENCH_NOTIFY_RATE events per second (default 50) for BENCH_NOTIFY_SECONDS
 *      (default 10), each timed from its outbox record (the producer's commit) to its arrival at
 *      the receiver: p50 / p99 latency. The dispatch interval (1 s by default) is its floor.
 *
 * The whole path, through real processes (collector → broker → sink-worker → ClickHouse →
 * rating-worker's threshold evaluation → outbox → webhook), on the run's own topics and databases:
 *
 *   3. Crossings: BENCH_NOTIFY_CROSSINGS customers (default 30), each with an absolute threshold
 *      on a COUNT meter and usage one call below it; each customer's crossing call is sent to the
 *      collector at a random moment of a BENCH_NOTIFY_CROSSING_SECONDS window (default 60), and
 *      timed from the collector's 2xx to its usage.threshold_crossed webhook: p50 / p99 / max
 *      against the goal p99 ≤ 60 s (issue 12). The rating-worker runs with its production
 *      THRESHOLD_EVALUATION_INTERVAL_MS, which dominates: a crossing waits for the next evaluation.
 *
 * Every webhook goes to a loopback receiver that verifies its Standard Webhooks signature. Fails
 * only on errors, a bad signature, or an event not delivered (a threshold not fired) exactly once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { notificationEvents, organizations, webhookEndpoints, withOrg, type Pool } from '@polaris/postgres';
import { throwawayPostgres } from '@polaris/postgres/testing';
import { loadConfig } from '@polaris/shared/config';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { ratingWorkerConfigSchema } from '../../rating-worker/src/config';
import { notificationsConfigSchema } from '../../rating-worker/src/notifications/notifications-config';
import { NotificationJobs } from '../../rating-worker/src/notifications/notification-jobs';
import { createNotificationMetrics } from '../../rating-worker/src/notifications/notification-metrics';
import { createMailer } from '../../rating-worker/src/notifications/mailer';
import { loadDevConfig } from '../src/config';
import { benchBroker, Cleanup, machineConditions, newRunId, runBench, throwawayDatabase } from './support/bench-system';
import { createCrossingTenant, waitForMeterLive } from './support/crossing-tenant';
import { notifyBenchPorts, NOTIFY_BENCH_PORTS, startNotifyServices } from './support/notify-services';
import { preflight } from './support/preflight';
import { percentile } from './support/stats';
import { crossingFailures, measureCrossings, sendUsageBelowThresholds, type CrossingResult } from './support/threshold-crossings';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver';

const env = loadConfig(
  z.object({
    BENCH_NOTIFY_EVENTS: z.coerce.number().int().positive().default(5_000),
    BENCH_NOTIFY_RATE: z.coerce.number().int().positive().default(50),
    BENCH_NOTIFY_SECONDS: z.coerce.number().int().positive().default(10),
    BENCH_NOTIFY_CONCURRENCY: z.coerce.number().int().positive().default(32),
    BENCH_NOTIFY_CROSSINGS: z.coerce.number().int().positive().max(1_000).default(30),
    BENCH_NOTIFY_CROSSING_SECONDS: z.coerce.number().int().positive().max(600).default(60),
  }),
);
const stack = loadDevConfig();
const defaults = notificationsConfigSchema.parse({});
/** The rating-worker's production default, set explicitly so a THRESHOLD_EVALUATION_INTERVAL_MS in the shell does not leak in. */
const EVALUATION_INTERVAL_MS = ratingWorkerConfigSchema.shape.THRESHOLD_EVALUATION_INTERVAL_MS.parse(undefined);
/** Each threshold's quantity: calls of the period. */
const CROSSING_LIMIT = 3;
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();
const logger = createLogger('bench-notify', 'warn');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records events in the outbox, each in its own transaction (as producers do); returns id → commit time. */
async function record(pool: Pool, org: string, count: number): Promise<Map<string, number>> {
  const recorded = new Map<string, number>();
  const one = async () => {
    const id = await withOrg(pool, org, (tx) =>
      notificationEvents.record(tx, { organizationId: org, type: 'dead_letters.growing', payload: { topic: 'bench', count: 1, windowStart: new Date().toISOString(), windowEnd: new Date().toISOString() }, dedupeKey: randomUUID(), occurredAt: new Date() }),
    );
    if (id) recorded.set(id, Date.now());
  };
  for (let i = 0; i < count; i += 16) await Promise.all(Array.from({ length: Math.min(16, count - i) }, one));
  return recorded;
}

async function waitForAll(receiver: WebhookReceiver, ids: Iterable<string>, capMs: number): Promise<void> {
  const wanted = [...ids];
  const until = Date.now() + capMs;
  while (Date.now() < until) {
    if (wanted.every((id) => receiver.arrivals.has(id))) return;
    await sleep(20);
  }
  throw new Error(`${wanted.filter((id) => !receiver.arrivals.has(id)).length} events not delivered within ${capMs} ms`);
}

function checkExactlyOnce(receiver: WebhookReceiver, ids: Iterable<string>, failures: string[]): void {
  const repeated = [...ids].filter((id) => (receiver.arrivals.get(id)?.length ?? 0) > 1).length;
  if (repeated > 0) failures.push(`${repeated} events delivered more than once`);
  if (receiver.badSignatures > 0) failures.push(`${receiver.badSignatures} deliveries with a bad signature`);
}

/** Sections 1 and 2: the in-process notifier, stopped again before section 3 starts its processes. */
async function notifierAlone(failures: string[]): Promise<string[]> {
  const db = await throwawayPostgres({ serverUrl: stack.postgres.url, poolMax: env.BENCH_NOTIFY_CONCURRENCY + 8 });
  cleanup.add('drop the notifier bench database', () => db.drop());
  const org = (await organizations.create(db.pool, { name: 'Bench notify', slug: `bench-notify-${randomBytes(3).toString('hex')}` })).id;
  const receiver = await startWebhookReceiver(cleanup);
  const endpoint = await webhookEndpoints.create(db.pool, { organizationId: org, url: receiver.url, eventTypes: [] });
  receiver.setSecret(endpoint.secret);

  const jobs = new NotificationJobs({
    pool: db.pool,
    logger,
    settings: {
      redisUrl: `redis://127.0.0.1:${stack.ports.redis}`,
      prefix: `bench-notify-${randomBytes(4).toString('hex')}`,
      concurrency: env.BENCH_NOTIFY_CONCURRENCY,
      dispatchIntervalMs: defaults.WEBHOOK_DISPATCH_INTERVAL_MS,
      maxAttempts: defaults.WEBHOOK_MAX_ATTEMPTS,
      backoffBaseMs: defaults.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: defaults.WEBHOOK_BACKOFF_MAX_MS,
      disableAfterMs: defaults.WEBHOOK_DISABLE_AFTER_MS,
      stallMs: defaults.WEBHOOK_STALL_MS,
      timeoutMs: defaults.WEBHOOK_TIMEOUT_MS,
      excerptBytes: defaults.WEBHOOK_RESPONSE_EXCERPT_BYTES,
      allowPrivateTargets: true,
    },
  });
  let stopped: Promise<void> | undefined;
  const stopNotifier = () =>
    (stopped ??= (async () => {
      await jobs.queue.obliterate({ force: true }).catch(() => undefined);
      await jobs.stop();
    })());
  cleanup.add('stop the in-process notifier', stopNotifier);
  jobs.start(createNotificationMetrics(createMetricsRegistry('bench-notify'), jobs.queue), createMailer({ from: 'bench' }, logger));

  // 1. Backlog.
  console.log(`1. backlog: recording ${env.BENCH_NOTIFY_EVENTS} events …`);
  const backlog = await record(db.pool, org, env.BENCH_NOTIFY_EVENTS);
  const started = Math.min(...backlog.values());
  await waitForAll(receiver, backlog.keys(), 600_000);
  const lastArrival = Math.max(...[...backlog.keys()].map((id) => receiver.arrivals.get(id)?.[0] ?? 0));
  const seconds = (lastArrival - started) / 1000;
  checkExactlyOnce(receiver, backlog.keys(), failures);

  // 2. Trickle.
  console.log(`2. trickle: ${env.BENCH_NOTIFY_RATE} events/s for ${env.BENCH_NOTIFY_SECONDS} s …`);
  const trickle = new Map<string, number>();
  for (let s = 0; s < env.BENCH_NOTIFY_SECONDS; s++) {
    const tick = Date.now();
    for (const [id, at] of await record(db.pool, org, env.BENCH_NOTIFY_RATE)) trickle.set(id, at);
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  await waitForAll(receiver, trickle.keys(), 120_000);
  checkExactlyOnce(receiver, trickle.keys(), failures);
  const latencies = [...trickle].map(([id, at]) => (receiver.arrivals.get(id)?.[0] ?? at) - at).sort((a, b) => a - b);
  await stopNotifier();
  return [
    `  backlog   ${backlog.size} events → ${backlog.size} deliveries in ${seconds.toFixed(2)} s: ${(backlog.size / seconds).toFixed(0)} deliveries/s (first record → last arrival)`,
    `  trickle   ${trickle.size} events at ${env.BENCH_NOTIFY_RATE}/s: outbox record → delivered p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${latencies.at(-1)} ms`,
  ];
}

/** Section 3: threshold crossings through the real processes. */
async function crossings(failures: string[]): Promise<CrossingResult> {
  const count = env.BENCH_NOTIFY_CROSSINGS;
  const windowMs = env.BENCH_NOTIFY_CROSSING_SECONDS * 1000;
  console.log(`3. crossings: starting collector, sink-worker and rating-worker (THRESHOLD_EVALUATION_INTERVAL_MS ${EVALUATION_INTERVAL_MS}, its production default) …`);
  const postgres = await throwawayPostgres({ serverUrl: stack.postgres.url, poolMax: 10 });
  cleanup.add('drop the crossings bench database', () => postgres.drop());
  const clickhouse = await throwawayDatabase(stack, `bench_${run}_notify`, cleanup);
  const { admin, topics } = await benchBroker(stack, run, cleanup);
  cleanup.add('delete the consumer group', () => admin.deleteGroups([`polaris-bench-notify-${run}`]));
  const receiver = await startWebhookReceiver(cleanup);
  const tenant = await createCrossingTenant(postgres.pool, { run, count, limit: CROSSING_LIMIT, receiverUrl: receiver.url });
  receiver.setSecret(tenant.webhookSecret);
  await startNotifyServices(
    stack,
    { postgresAppUrl: postgres.appUrl, clickhouseDatabase: clickhouse.database, topics, run },
    { THRESHOLD_EVALUATION_INTERVAL_MS: String(EVALUATION_INTERVAL_MS), WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' },
    cleanup,
  );
  await waitForMeterLive(postgres.pool, tenant.organizationId, tenant.meterSlug, 60_000);
  const r = {
    collectorUrl: `http://127.0.0.1:${NOTIFY_BENCH_PORTS.collector}/v1/events`,
    tenant,
    receiver,
    clickhouse: clickhouse.client,
    run,
    limit: CROSSING_LIMIT,
    windowMs,
    // A crossing waits for the next evaluation (one interval at most), then the dispatch and the delivery.
    tailCapMs: 3 * EVALUATION_INTERVAL_MS + 30_000,
    // Every threshold is evaluated again after its firing before the count is believed.
    quietMs: EVALUATION_INTERVAL_MS + 2 * defaults.WEBHOOK_DISPATCH_INTERVAL_MS,
  };
  await sendUsageBelowThresholds(r, 60_000);
  console.log(`  ${count} customers at ${CROSSING_LIMIT - 1} of ${CROSSING_LIMIT} calls (stored); crossing calls over ${windowMs / 1000} s …`);
  const result = await measureCrossings(r);
  failures.push(...crossingFailures(result, count));
  if (receiver.badSignatures > 0) failures.push(`${receiver.badSignatures} crossing webhooks with a bad signature`);
  const { rows } = await postgres.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM usage_threshold_firings WHERE organization_id = $1', [tenant.organizationId]);
  if (rows[0]?.n !== count) failures.push(`${rows[0]?.n ?? 0} threshold firings recorded, expected ${count}`);
  return result;
}

await runBench(async () => {
  const failures: string[] = [];
  await preflight(stack, notifyBenchPorts());
  console.log(`bench:notify run ${run}; machine: ${machineConditions()}`);
  const alone = await notifierAlone(failures);
  const crossing = await crossings(failures);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const goal = crossing.latency.p99 <= 60_000 ? 'met' : 'NOT met';
  console.log(`
bench:notify
 notifier in process (concurrency ${env.BENCH_NOTIFY_CONCURRENCY}, dispatch every ${defaults.WEBHOOK_DISPATCH_INTERVAL_MS} ms, receiver on loopback verifying signatures)
${alone.join('\n')}
 threshold crossing → webhook, through collector, sink-worker and rating-worker (THRESHOLD_EVALUATION_INTERVAL_MS ${EVALUATION_INTERVAL_MS}, WEBHOOK_DISPATCH_INTERVAL_MS ${defaults.WEBHOOK_DISPATCH_INTERVAL_MS})
  crossings ${crossing.latency.count} of ${env.BENCH_NOTIFY_CROSSINGS} thresholds crossed over ${s(crossing.spanMs)}: accepted by the collector → webhook p50 ${s(crossing.latency.p50)}, p99 ${s(crossing.latency.p99)}, max ${s(crossing.latency.max)} (goal p99 ≤ 60 s: ${goal})
  every threshold fired exactly once (one webhook-id each, ${crossing.repeatedDeliveries} repeated deliveries), none early: ${crossingFailures(crossing, env.BENCH_NOTIFY_CROSSINGS).length === 0 ? 'yes' : 'NO'}
  every event delivered exactly once, every signature valid: ${failures.length === 0 ? 'yes' : 'NO'}`);
  return failures;
}, cleanup);
