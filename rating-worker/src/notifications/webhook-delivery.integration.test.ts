import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { customers, notificationEvents, organizations, webhookDeliveries, webhookEndpoints, withOrg, type NotificationEventType } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { loadConfig } from '@polaris/shared/config';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver';
import { createMailer } from './mailer';
import { createNotificationMetrics } from './notification-metrics';
import { NotificationJobs } from './notification-jobs';
import { webhookIdOf } from './webhook-signature';

// The notifier end to end over the local stack's Redis and a throwaway PostgreSQL: events
// recorded in the outbox reach a real HTTP receiver that verifies every signature; a receiver
// down for a while gets every event once it is back (deduplicated by webhook-id), with the failed
// attempts in the delivery log; a replay resends with the same webhook-id; an endpoint failing
// too long is disabled and its alert address gets an email at a real SMTP server; an
// invoice.finalized event emails the customer.

const logger = createLogger('it-webhooks', 'silent');
const { REDIS_URL } = loadConfig(z.object({ REDIS_URL: z.string().default('redis://127.0.0.1:56379') }));
const DISABLE_AFTER_MS = 3_000;

describe('webhook delivery', () => {
  let pg: ThrowawayPostgres;
  let receiver: WebhookReceiver;
  let failing: WebhookReceiver;
  let jobs: NotificationJobs;
  let smtp: SMTPServer;
  const mails: ParsedMail[] = [];
  let org: string;
  let endpointId: string;

  async function record(type: NotificationEventType, payload: Record<string, unknown>): Promise<string> {
    const id = await withOrg(pg.pool, org, (tx) => notificationEvents.record(tx, { organizationId: org, type, payload, dedupeKey: `${type}:${randomUUID()}`, occurredAt: new Date() }));
    if (!id) throw new Error('event not recorded');
    return id;
  }
  const meterPayload = (n: number) => ({ topic: 'polaris.events.dlq.v1', count: n, windowStart: new Date().toISOString(), windowEnd: new Date().toISOString() });
  const receivedFor = (eventIds: string[]) => receiver.received.filter((r) => eventIds.includes(r.body.eventId));

  beforeAll(async () => {
    pg = await throwawayPostgres({ poolMax: 10 });
    org = (await organizations.create(pg.pool, { name: 'Hooks', slug: `hooks-${randomBytes(3).toString('hex')}` })).id;
    receiver = await startWebhookReceiver();
    failing = await startWebhookReceiver();
    failing.answerWith(500);
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData: (stream, _session, done) => {
        simpleParser(stream).then((mail) => {
          mails.push(mail);
          done();
        }, done);
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;

    const created = await webhookEndpoints.create(pg.pool, { organizationId: org, url: receiver.url, eventTypes: ['dead_letters.growing', 'invoice.finalized'] });
    endpointId = created.endpoint.id;
    receiver.setSecret(created.secret);

    jobs = new NotificationJobs({
      pool: pg.pool,
      logger,
      settings: {
        redisUrl: REDIS_URL,
        prefix: `it-notify-${randomBytes(4).toString('hex')}`,
        concurrency: 8,
        dispatchIntervalMs: 200,
        maxAttempts: 30,
        backoffBaseMs: 100,
        backoffMaxMs: 400,
        disableAfterMs: DISABLE_AFTER_MS,
        stallMs: 60_000,
        timeoutMs: 2_000,
        excerptBytes: 64,
        allowPrivateTargets: true,
      },
    });
    jobs.start(createNotificationMetrics(createMetricsRegistry('it-notify'), jobs.queue), createMailer({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, from: 'Polaris <it@polaris.invalid>' }, logger));
  });

  afterAll(async () => {
    await jobs?.queue.obliterate({ force: true }).catch(() => undefined);
    await jobs?.stop();
    await receiver?.close();
    await failing?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await pg?.drop();
  });

  it('delivers recorded events to the receiver, every signature valid, and only the types the endpoint asked for', async () => {
    const ids = [await record('dead_letters.growing', meterPayload(1)), await record('dead_letters.growing', meterPayload(2))];
    const ignored = await record('meter.backfill_completed', { meter: {}, run: {} });
    await vi.waitFor(() => expect(receivedFor(ids)).toHaveLength(2), { timeout: 15_000, interval: 100 });
    for (const got of receivedFor(ids)) {
      expect(got.signatureValid).toBe(true);
      expect(got.body.type).toBe('dead_letters.growing');
      expect(got.body.version).toBe(1);
    }
    expect(receivedFor([ignored])).toHaveLength(0);
    const page = await webhookDeliveries.list(pg.pool, { organizationId: org });
    expect(page.deliveries.filter((d) => ids.includes(d.eventId)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('delivers every event exactly once (by webhook-id) after the receiver was down, with the retries in the log', async () => {
    await receiver.down();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await record('dead_letters.growing', meterPayload(i)));
    // Every delivery has failed at least once while the receiver was away.
    await vi.waitFor(
      async () => {
        const { deliveries } = await webhookDeliveries.list(pg.pool, { organizationId: org, status: 'pending' });
        const mine = deliveries.filter((d) => ids.includes(d.eventId));
        expect(mine).toHaveLength(10);
        expect(mine.every((d) => d.attemptCount >= 1)).toBe(true);
      },
      { timeout: 15_000, interval: 100 },
    );
    await receiver.up();
    await vi.waitFor(() => expect(new Set(receivedFor(ids).map((r) => r.webhookId)).size).toBe(10), { timeout: 20_000, interval: 100 });
    const got = receivedFor(ids);
    expect(got).toHaveLength(10);
    expect(got.every((r) => r.signatureValid)).toBe(true);

    const { deliveries } = await webhookDeliveries.list(pg.pool, { organizationId: org });
    const one = deliveries.find((d) => d.eventId === ids[0]);
    if (!one) throw new Error('no delivery of the first event');
    const detail = await webhookDeliveries.get(pg.pool, { organizationId: org, deliveryId: one.id });
    expect(detail.status).toBe('delivered');
    const outcomes = (detail.attempts ?? []).map((a) => a.outcome);
    expect(outcomes.at(-1)).toBe('delivered');
    expect(outcomes.slice(0, -1).length).toBeGreaterThanOrEqual(1);
    expect(outcomes.slice(0, -1).every((o) => o === 'network_error')).toBe(true);
    expect(detail.attempts?.at(-1)?.trigger).toBe('retry');
    expect(detail.attempts?.at(-1)?.responseStatus).toBe(200);
    expect(got.find((r) => r.body.eventId === ids[0])?.webhookId).toBe(webhookIdOf(one.id));
  });

  it('replays a delivery with the same webhook-id', async () => {
    const id = await record('dead_letters.growing', meterPayload(99));
    await vi.waitFor(() => expect(receivedFor([id])).toHaveLength(1), { timeout: 15_000, interval: 100 });
    const { deliveries } = await webhookDeliveries.list(pg.pool, { organizationId: org });
    const delivery = deliveries.find((d) => d.eventId === id);
    if (!delivery) throw new Error('no delivery');
    const queued = await webhookDeliveries.replay(pg.pool, { organizationId: org, deliveryId: delivery.id });
    await jobs.enqueue([queued]);
    await vi.waitFor(() => expect(receivedFor([id])).toHaveLength(2), { timeout: 15_000, interval: 100 });
    const [first, second] = receivedFor([id]);
    expect(second?.webhookId).toBe(first?.webhookId);
    expect(second?.signatureValid).toBe(true);
    const detail = await webhookDeliveries.get(pg.pool, { organizationId: org, deliveryId: delivery.id });
    expect(detail.attempts?.map((a) => a.trigger)).toEqual(['initial', 'replay']);
  });

  it('disables an endpoint failing for longer than the configured time and emails its alert address', async () => {
    const bad = await webhookEndpoints.create(pg.pool, { organizationId: org, url: failing.url, eventTypes: ['dead_letters.growing'], alertEmail: 'ops@example.com' });
    await record('dead_letters.growing', meterPayload(7));
    await vi.waitFor(async () => expect((await webhookEndpoints.get(pg.pool, { organizationId: org, endpointId: bad.endpoint.id })).enabled).toBe(false), {
      timeout: DISABLE_AFTER_MS + 15_000,
      interval: 100,
    });
    await vi.waitFor(() => expect(mails.find((m) => m.subject?.startsWith('Webhook endpoint disabled'))).toBeDefined(), { timeout: 15_000, interval: 100 });
    const mail = mails.find((m) => m.subject?.startsWith('Webhook endpoint disabled'));
    expect(mail?.subject).toBe(`Webhook endpoint disabled: ${failing.url}`);
    expect(mail?.to && 'text' in mail.to ? mail.to.text : '').toBe('ops@example.com');
    expect(mail?.text).toContain(bad.endpoint.id);
    expect(mail?.text).toContain('failing since');
    const { deliveries } = await webhookDeliveries.list(pg.pool, { organizationId: org, endpointId: bad.endpoint.id });
    expect(deliveries[0]?.status).toBe('failed');
    const detail = await webhookDeliveries.get(pg.pool, { organizationId: org, deliveryId: deliveries[0]?.id ?? '' });
    expect(detail.attempts?.[0]).toMatchObject({ outcome: 'http_error', responseStatus: 500, responseExcerpt: 'down for maintenance' });
    // The healthy endpoint keeps receiving.
    expect((await webhookEndpoints.get(pg.pool, { organizationId: org, endpointId })).enabled).toBe(true);
  });

  it('emails the customer when an invoice is finalized', async () => {
    const customer = await customers.create(pg.pool, { organizationId: org, externalId: 'acme-42', name: 'Acme', email: 'billing@acme.example', currency: 'EUR' });
    await record('invoice.finalized', {
      invoice: {
        id: randomUUID(),
        number: 'INV-000007',
        status: 'finalized',
        customerId: customer.id,
        customerExternalId: 'acme-42',
        subscriptionId: randomUUID(),
        periodStart: '2026-08-01T00:00:00.000Z',
        periodEnd: '2026-09-01T00:00:00.000Z',
        currency: 'EUR',
        subtotal: '125.50',
        total: '125.50',
      },
    });
    await vi.waitFor(() => expect(mails.find((m) => m.subject?.startsWith('Invoice INV-000007'))).toBeDefined(), { timeout: 15_000, interval: 100 });
    const mail = mails.find((m) => m.subject?.startsWith('Invoice INV-000007'));
    expect(mail?.subject).toBe('Invoice INV-000007 finalized: 125.50 EUR');
    expect(mail?.to && 'text' in mail.to ? mail.to.text : '').toBe('billing@acme.example');
    expect(mail?.text).toContain('Period: 2026-08-01 to 2026-09-01');
    expect(mail?.html).toContain('<th align="left">Total</th><td>125.50 EUR</td>');
  });
  it('emails the customer when a usage threshold is crossed', async () => {
    const customer = await customers.create(pg.pool, { organizationId: org, externalId: 'globex-7', name: 'Globex', email: 'ops@globex.example', currency: 'EUR' });
    await record('usage.threshold_crossed', {
      thresholdId: randomUUID(),
      customerId: customer.id,
      customerExternalId: 'globex-7',
      meterSlug: 'api_calls',
      kind: 'absolute',
      periodStart: '2026-08-01T00:00:00.000Z',
      periodEnd: '2026-09-01T00:00:00.000Z',
      limitQuantity: '1000',
      observedQuantity: '1004',
    });
    const subject = 'Usage threshold crossed: api_calls for globex-7';
    await vi.waitFor(() => expect(mails.find((m) => m.subject === subject)).toBeDefined(), { timeout: 15_000, interval: 100 });
    const mail = mails.find((m) => m.subject === subject);
    expect(mail?.to && 'text' in mail.to ? mail.to.text : '').toBe('ops@globex.example');
    expect(mail?.text).toContain('Usage so far: 1004');
    expect(mails.filter((m) => m.subject === subject)).toHaveLength(1);
  });
});
