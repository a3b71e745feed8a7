/**
 * bench:notify — the webhook notifier (rating-worker/src/notifications) against a local HTTP
 * receiver that verifies every Standard Webhooks signature. The notifier runs in this process
 * (its real queue, worker, dispatcher and deliverer, over the local stack's Redis and a throwaway
 * PostgreSQL database), with its production defaults except the private-target guard (the
 * receiver is on loopback) and WEBHOOK_CONCURRENCY (BENCH_NOTIFY_CONCURRENCY).
 *
 *   1. Backlog: BENCH_NOTIFY_EVENTS events (default 5,000) are recorded in the outbox at once;
 *      timed until the receiver has every one: deliveries per second.
 *   2. Trickle: BENCH_NOTIFY_RATE events per second (default 50) for BENCH_NOTIFY_SECONDS
 *      (default 10), each timed from its outbox record (the producer's commit) to its arrival at
 *      the receiver: p50 / p99 latency. The dispatch interval (1 s by default) is its floor.
 *
 * Fails only on errors, a bad signature or an event not delivered exactly once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { notificationEvents, organizations, webhookEndpoints, withOrg, type Pool } from '@polaris/postgres';
import { throwawayPostgres } from '@polaris/postgres/testing';
import { loadConfig } from '@polaris/shared/config';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { notificationsConfigSchema } from '../../rating-worker/src/notifications/notifications-config';
import { NotificationJobs } from '../../rating-worker/src/notifications/notification-jobs';
import { createNotificationMetrics } from '../../rating-worker/src/notifications/notification-metrics';
import { createMailer } from '../../rating-worker/src/notifications/mailer';
import { loadDevConfig } from '../src/config';
import { Cleanup, runBench } from './support/bench-system';
import { percentile } from './support/stats';

const env = loadConfig(
  z.object({
    BENCH_NOTIFY_EVENTS: z.coerce.number().int().positive().default(5_000),
    BENCH_NOTIFY_RATE: z.coerce.number().int().positive().default(50),
    BENCH_NOTIFY_SECONDS: z.coerce.number().int().positive().default(10),
    BENCH_NOTIFY_CONCURRENCY: z.coerce.number().int().positive().default(32),
  }),
);
const stack = loadDevConfig();
const defaults = notificationsConfigSchema.parse({});
const cleanup = new Cleanup();
cleanup.onInterrupt();
const logger = createLogger('bench-notify', 'warn');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Receiver {
  url: string;
  /** eventId → arrival times (ms since the epoch), one per delivery received. */
  arrivals: Map<string, number[]>;
  badSignatures: number;
  setSecret(secret: string): void;
}

async function startReceiver(): Promise<Receiver> {
  const signing: { verifier?: Webhook } = {};
  const receiver: Receiver = { url: '', arrivals: new Map(), badSignatures: 0, setSecret: (s) => (signing.verifier = new Webhook(s)) };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
        const event = signing.verifier?.verify(body, headers) as { eventId: string };
        receiver.arrivals.set(event.eventId, [...(receiver.arrivals.get(event.eventId) ?? []), at]);
        res.writeHead(204).end();
      } catch {
        receiver.badSignatures++;
        res.writeHead(400).end();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add('stop the receiver', () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

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

async function waitForAll(receiver: Receiver, ids: Iterable<string>, capMs: number): Promise<void> {
  const wanted = [...ids];
  const until = Date.now() + capMs;
  while (Date.now() < until) {
    if (wanted.every((id) => receiver.arrivals.has(id))) return;
    await sleep(20);
  }
  throw new Error(`${wanted.filter((id) => !receiver.arrivals.has(id)).length} events not delivered within ${capMs} ms`);
}

function checkExactlyOnce(receiver: Receiver, ids: Iterable<string>, failures: string[]): void {
  const repeated = [...ids].filter((id) => (receiver.arrivals.get(id)?.length ?? 0) > 1).length;
  if (repeated > 0) failures.push(`${repeated} events delivered more than once`);
  if (receiver.badSignatures > 0) failures.push(`${receiver.badSignatures} deliveries with a bad signature`);
}

await runBench(async () => {
  const failures: string[] = [];
  const db = await throwawayPostgres({ serverUrl: stack.postgres.url, poolMax: env.BENCH_NOTIFY_CONCURRENCY + 8 });
  cleanup.add('drop the bench database', () => db.drop());
  const org = (await organizations.create(db.pool, { name: 'Bench notify', slug: `bench-notify-${randomBytes(3).toString('hex')}` })).id;
  const receiver = await startReceiver();
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
  cleanup.add('stop the notifier', async () => {
    await jobs.queue.obliterate({ force: true }).catch(() => undefined);
    await jobs.stop();
  });
  jobs.start(createNotificationMetrics(createMetricsRegistry('bench-notify'), jobs.queue), createMailer({ from: 'bench' }, logger));

  // 1. Backlog.
  console.log(`backlog: recording ${env.BENCH_NOTIFY_EVENTS} events …`);
  const backlog = await record(db.pool, org, env.BENCH_NOTIFY_EVENTS);
  const started = Math.min(...backlog.values());
  await waitForAll(receiver, backlog.keys(), 600_000);
  const lastArrival = Math.max(...[...backlog.keys()].map((id) => receiver.arrivals.get(id)?.[0] ?? 0));
  const seconds = (lastArrival - started) / 1000;
  checkExactlyOnce(receiver, backlog.keys(), failures);

  // 2. Trickle.
  console.log(`trickle: ${env.BENCH_NOTIFY_RATE} events/s for ${env.BENCH_NOTIFY_SECONDS} s …`);
  const trickle = new Map<string, number>();
  for (let s = 0; s < env.BENCH_NOTIFY_SECONDS; s++) {
    const tick = Date.now();
    for (const [id, at] of await record(db.pool, org, env.BENCH_NOTIFY_RATE)) trickle.set(id, at);
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  await waitForAll(receiver, trickle.keys(), 120_000);
  checkExactlyOnce(receiver, trickle.keys(), failures);
  const latencies = [...trickle].map(([id, at]) => (receiver.arrivals.get(id)?.[0] ?? at) - at).sort((a, b) => a - b);

  console.log(`
bench:notify (notifier in process, concurrency ${env.BENCH_NOTIFY_CONCURRENCY}, dispatch every ${defaults.WEBHOOK_DISPATCH_INTERVAL_MS} ms, receiver on loopback verifying signatures)
  backlog   ${backlog.size} events → ${backlog.size} deliveries in ${seconds.toFixed(2)} s: ${(backlog.size / seconds).toFixed(0)} deliveries/s (first record → last arrival)
  trickle   ${trickle.size} events at ${env.BENCH_NOTIFY_RATE}/s: outbox record → delivered p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${latencies.at(-1)} ms
  every event delivered exactly once, every signature valid: ${failures.length === 0 ? 'yes' : 'NO'}`);
  return failures;
}, cleanup);
