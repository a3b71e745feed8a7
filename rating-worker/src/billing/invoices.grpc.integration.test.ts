import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createInternalAuth, createUnaryWrapper, insecureChannel, internalClientOptions, startGrpcServer, type GrpcServer, type InternalCaller } from '@polaris/shared/grpc';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { customers, meters, organizations } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { InvoicesClient, type Invoice } from '@polaris/proto';
import { subscribedCustomer, type Subscribed } from '../test-support/billing-catalog';
import { insertUsage, readyMeter, startUsageServer, type UsageServer } from '../test-support/usage-server';
import { InvoiceRater } from '../rating/invoice-rater';
import { connectUsage } from '../rating/usage-client';
import { UsageReader } from '../rating/usage-reader';
import { invoicesService } from './invoices.grpc';
import { rejection } from '../test-support/rejection';

// polaris.v1.Invoices through a real gRPC server, rating real usage: the sink-worker's Usage
// service over a throwaway ClickHouse, PostgreSQL of its own. Jobs and requests share the rater.

const logger = createLogger('it-invoices', 'silent');
const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
type Method<Req, Res> = Parameters<typeof callUnary<Req, Res>>[1];
const DAY = 86_400_000;
const JAN = new Date('2026-01-01T00:00:00Z');
const FEB = new Date('2026-02-01T00:00:00Z');
const MAR = new Date('2026-03-01T00:00:00Z');
const PRICES = [
  { key: 'platform', name: 'Platform', model: 'FLAT', amount: '49' },
  { key: 'api_calls', name: 'API calls', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.01', freeQuota: '100' },
];

describe('Invoices gRPC', () => {
  let pg: ThrowawayPostgres;
  let usage: UsageServer;
  let server: GrpcServer;
  let usageClient: ReturnType<typeof connectUsage>;
  let rater: InvoiceRater;
  const clients: Array<{ close(): void }> = [];
  let org: string;
  let otherOrg: string;
  let versionId: string;
  let acme: Subscribed;

  const invoicesAs = (caller: InternalCaller) => {
    const client = new InvoicesClient(`127.0.0.1:${server.port}`, insecureChannel, internalClientOptions(createInternalAuth(secret, caller)));
    clients.push(client);
    return client;
  };
  let operator: InstanceType<typeof InvoicesClient>;
  let gateway: InstanceType<typeof InvoicesClient>;
  const call = <Req extends { organizationId: string }, Res>(method: Method<Req, Res>, req: Req, actingFor = req.organizationId) =>
    callUnary('invoices', method, req, 10_000, { actingFor });
  const get = (organizationId: string, invoiceId: string) => call(operator.getInvoice.bind(operator), { organizationId, invoiceId });
  const action = (name: 'recomputeInvoice' | 'finalizeInvoice' | 'markInvoicePaid' | 'voidInvoice', invoiceId: string, actor = '', client = operator) =>
    call(client[name].bind(client), { organizationId: org, invoiceId, actor });
  const calls = (subject: string, at: Date, count: number) => insertUsage(usage.clickhouse, org, versionId, Array.from({ length: count }, () => ({ subject, at, value: '1' })));

  /** Opens and computes one period of the subscription, as a rate-period job does; the invoice id. */
  async function rated(sub: Subscribed, periodStart: Date): Promise<string> {
    expect(await rater.ratePeriod({ organizationId: org, subscriptionId: sub.subscription.id, periodStart })).toBe('computed');
    const { rows } = await pg.pool.query('SELECT id FROM invoices WHERE subscription_id = $1 AND period_start = $2', [sub.subscription.id, periodStart]);
    return (rows[0] as { id: string }).id;
  }

  beforeAll(async () => {
    pg = await throwawayPostgres({ poolMax: 8 });
    usage = await startUsageServer(pg.pool, secret);
    org = (await organizations.create(pg.pool, { name: 'Acme billing', slug: `bill-${randomBytes(3).toString('hex')}` })).id;
    otherOrg = (await organizations.create(pg.pool, { name: 'Other', slug: `other-${randomBytes(3).toString('hex')}` })).id;
    await meters.create(pg.pool, { organizationId: org, slug: 'api_calls', definition: { eventType: 'api.call', aggregation: 'SUM', valuePath: '$.value', dimensions: [] } });
    versionId = await readyMeter(pg.pool, org, 'api_calls');
    acme = await subscribedCustomer(pg.pool, { organizationId: org, prices: PRICES, subjects: ['acme-web', 'acme-batch'], startAt: JAN });
    usageClient = connectUsage(usage.addr, createInternalAuth(secret, 'rating-worker'), 10_000);
    // As the service runs: the app role, under row-level security (fixtures use the owner's pg.pool).
    rater = new InvoiceRater({
      pool: pg.appPool,
      usage: new UsageReader(usageClient.queryMeter),
      instanceId: 'it-rater',
      settings: { claimTtlMs: 60_000, settleMs: 0, graceMs: 0, lateLookbackMs: 35 * DAY },
      logger,
    });
    server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      services: [invoicesService(pg.appPool, rater, createUnaryWrapper(logger, createMetricsRegistry('it')))],
      auth: createInternalAuth(secret, 'rating-worker'),
      logger,
    });
    operator = invoicesAs('operator');
    gateway = invoicesAs('gateway');
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    usageClient?.close();
    await server?.stop(1_000);
    await usage?.stop();
    await pg?.drop();
  });

  it('rates a closed period from the usage of the customer’s subjects, and recomputes it byte for byte', async () => {
    await calls('acme-web', new Date('2026-01-10T12:00:00Z'), 200);
    await calls('acme-batch', new Date('2026-01-31T23:59:00Z'), 100);
    await calls('acme-web', FEB, 1_000); // the next period's
    await calls('someone-else', new Date('2026-01-15T00:00:00Z'), 5_000); // nobody's customer
    const invoiceId = await rated(acme, JAN);

    const invoice = await get(org, invoiceId);
    expect(invoice).toMatchObject({ status: 'draft', currency: 'USD', periodStart: JAN, periodEnd: FEB, subtotal: '51.00', total: '51.00', ratingError: '', estimate: false });
    expect(invoice.lines.map((l) => [l.lineKey, l.kind, l.quantity, l.billableQuantity, l.amount])).toEqual([
      ['platform', 'flat', '1', '1', '49.00'],
      ['api_calls', 'usage', '300', '200', '2.00'],
    ]);
    expect(invoice.lines[1]).toMatchObject({ meterSlug: 'api_calls', meterVersionId: versionId, unitPrice: '0.01', periodQuantity: '300' });
    expect(invoice.history.map((e) => [e.action, e.actor])).toEqual([
      ['created', 'scheduler'],
      ['computed', 'rating-worker'],
    ]);

    const again = await action('recomputeInvoice', invoiceId);
    expect(again.linesHash).toBe(invoice.linesHash);
    expect(again.lines).toEqual(invoice.lines);
    // The usage is read again, so it is as of the recompute, not as of the first computation.
    expect(again.usageAsOf?.getTime()).toBeGreaterThan(invoice.usageAsOf?.getTime() ?? Infinity);
    // No actor given: the calling service is recorded.
    expect(again.history.at(-1)).toMatchObject({ action: 'recomputed', actor: 'operator' });
    expect(JSON.parse(again.history.at(-1)?.detail ?? '{}')).toMatchObject({ totalBefore: '51.00', totalAfter: '51.00' });
  });

  it('finalizes with a last computation and a number; late usage lands on the next invoice as an adjustment', async () => {
    const sub = await subscribedCustomer(pg.pool, { organizationId: org, prices: PRICES, subjects: ['late-1'], startAt: JAN });
    await calls('late-1', new Date('2026-01-05T00:00:00Z'), 150);
    const jan = await rated(sub, JAN);
    await calls('late-1', new Date('2026-01-06T00:00:00Z'), 50); // arrives before finalization: billed in January
    const finalized = await action('finalizeInvoice', jan, 'api-key:k1', gateway);
    expect(finalized).toMatchObject({ status: 'finalized', number: expect.stringMatching(/^INV-\d{6}$/), total: '50.00' });
    expect(finalized.lines[1]).toMatchObject({ quantity: '200', amount: '1.00' });
    expect(finalized.history.at(-1)).toMatchObject({ action: 'finalized', actor: 'api-key:k1', fromStatus: 'draft', toStatus: 'finalized' });

    await calls('late-1', new Date('2026-01-31T10:00:00Z'), 30); // too late for January's invoice
    await calls('late-1', new Date('2026-02-02T00:00:00Z'), 120);
    const feb = await get(org, await rated(sub, FEB));
    expect(feb.lines.map((l) => [l.lineKey, l.kind, l.quantity, l.amount, l.periodQuantity, l.description])).toEqual([
      ['platform', 'flat', '1', '49.00', '', 'Platform'],
      ['api_calls', 'usage', '120', '0.20', '120', 'API calls'],
      [`adjustment:${JAN.toISOString()}:api_calls`, 'adjustment', '30', '0.30', '230', 'API calls — late usage for 2026-01'],
    ]);
    expect(feb.total).toBe('49.50');
    expect(feb.lines[2]).toMatchObject({ usagePeriodStart: JAN, usagePeriodEnd: FEB });

    // Finalized once more: January's amounts over both invoices add up to rate(230) = 1.30.
    await action('finalizeInvoice', feb.id);
    const mar = await get(org, await rated(sub, MAR));
    expect(mar.lines.filter((l) => l.kind === 'adjustment')).toEqual([]);
  });

  it('keeps a finalized invoice as it is, and refuses transitions the lifecycle does not have', async () => {
    const sub = await subscribedCustomer(pg.pool, { organizationId: org, prices: PRICES, subjects: ['frozen-1'], startAt: JAN });
    const invoiceId = await rated(sub, JAN);
    expect(await rejection(action('markInvoicePaid', invoiceId))).toMatchObject({ kind: 'failed_precondition', code: 'invalid_invoice_transition' });
    const finalized = await action('finalizeInvoice', invoiceId);
    await calls('frozen-1', new Date('2026-01-20T00:00:00Z'), 500);
    expect(await rejection(action('recomputeInvoice', invoiceId))).toMatchObject({ code: 'invalid_invoice_transition', message: expect.stringMatching(/is finalized: only a draft invoice can be recomputed/) });
    expect((await get(org, invoiceId)).lines).toEqual(finalized.lines);
    expect((await action('markInvoicePaid', invoiceId)).status).toBe('paid');
    expect(await rejection(action('voidInvoice', invoiceId))).toMatchObject({ code: 'invalid_invoice_transition', message: expect.stringMatching(/is paid/) });

    const voided = await rated(sub, FEB);
    expect((await action('voidInvoice', voided)).status).toBe('void');
    expect(await rejection(action('finalizeInvoice', voided))).toMatchObject({
      kind: 'failed_precondition',
      code: 'invalid_invoice_transition',
      message: `invoice ${voided} is void: only a draft invoice can become finalized`,
    });
  });

  it('never bills a meter that is still backfilling: the draft keeps the rating error', async () => {
    await meters.create(pg.pool, { organizationId: org, slug: 'tokens', definition: { eventType: 'llm', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [] } });
    const sub = await subscribedCustomer(pg.pool, {
      organizationId: org,
      prices: [{ key: 'tokens', name: 'Tokens', model: 'PER_UNIT', meterSlug: 'tokens', unitPrice: '0.001' }],
      subjects: ['backfilling-1'],
      startAt: JAN,
    });
    const err = await rejection(rater.ratePeriod({ organizationId: org, subscriptionId: sub.subscription.id, periodStart: JAN }));
    expect(err).toMatchObject({ kind: 'unavailable', code: 'usage_incomplete' });
    const [invoice] = (await call(operator.listInvoices.bind(operator), { organizationId: org, customerId: '', subscriptionId: sub.subscription.id, status: '', pageSize: 0, pageToken: '' })).invoices;
    expect(invoice).toMatchObject({ status: 'draft', total: '', ratingError: expect.stringMatching(/^usage_incomplete: meter tokens is still backfilling/) });
    expect(await rejection(action('finalizeInvoice', invoice?.id ?? ''))).toMatchObject({ code: 'usage_incomplete' });
  });

  it('estimates the current period so far, with the adjustments the next invoice will carry, and stores nothing', async () => {
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const sub = await subscribedCustomer(pg.pool, { organizationId: org, prices: PRICES, subjects: ['now-1'], startAt: previous });
    await calls('now-1', new Date(previous.getTime() + DAY), 300);
    await action('finalizeInvoice', await rated(sub, previous));
    await calls('now-1', new Date(previous.getTime() + 2 * DAY), 10); // late, for last month
    await calls('now-1', new Date(Math.max(monthStart.getTime(), now.getTime() - 3 * 60_000)), 250);
    const before = await pg.pool.query('SELECT count(*)::int AS n FROM invoices');

    const estimate = await call(gateway.getUpcomingInvoice.bind(gateway), { organizationId: org, customerId: '', externalId: sub.customer.externalId });
    expect(estimate).toMatchObject({ id: '', number: '', status: 'estimate', estimate: true, periodStart: monthStart, customerId: sub.customer.id, subscriptionId: sub.subscription.id });
    // Usage up to now, floored to the minute.
    const asOf = estimate.usageAsOf?.getTime() ?? 0;
    expect(asOf % 60_000).toBe(0);
    expect(asOf).toBeGreaterThanOrEqual(Math.floor(now.getTime() / 60_000) * 60_000);
    expect(asOf).toBeLessThanOrEqual(Date.now());
    expect(estimate.lines.map((l) => [l.lineKey, l.quantity, l.amount])).toEqual([
      ['platform', '1', '49.00'],
      ['api_calls', '250', '1.50'],
      [`adjustment:${previous.toISOString()}:api_calls`, '10', '0.10'],
    ]);
    expect(estimate.total).toBe('50.60');
    expect((await pg.pool.query('SELECT count(*)::int AS n FROM invoices')).rows).toEqual(before.rows);

    const lonely = await customers.create(pg.pool, { organizationId: org, externalId: `lonely-${randomBytes(3).toString('hex')}`, name: 'Lonely', currency: 'USD' });
    expect(await rejection(call(operator.getUpcomingInvoice.bind(operator), { organizationId: org, customerId: lonely.id, externalId: '' }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'no_active_subscription',
    });
  });

  it('lists invoices newest first with filters, without lines', async () => {
    const page = await call(operator.listInvoices.bind(operator), { organizationId: org, customerId: acme.customer.id, subscriptionId: '', status: '', pageSize: 10, pageToken: '' });
    expect(page.invoices.length).toBeGreaterThan(0);
    expect(page.invoices.every((i: Invoice) => i.customerId === acme.customer.id && i.lines.length === 0)).toBe(true);
    expect(await rejection(call(operator.listInvoices.bind(operator), { organizationId: org, customerId: '', subscriptionId: '', status: 'open', pageSize: 0, pageToken: '' }))).toMatchObject({
      kind: 'invalid_argument',
      field: 'status',
    });
  });

  it("finds nothing of another organization's, and admits only the gateway and the operator", async () => {
    const invoiceId = (await call(operator.listInvoices.bind(operator), { organizationId: org, customerId: acme.customer.id, subscriptionId: '', status: '', pageSize: 1, pageToken: '' })).invoices[0]?.id ?? '';
    expect(await rejection(get(otherOrg, invoiceId))).toMatchObject({ kind: 'not_found', code: 'invoice_not_found' });
    expect(await rejection(call(operator.voidInvoice.bind(operator), { organizationId: otherOrg, invoiceId, actor: '' }))).toMatchObject({ code: 'invoice_not_found' });
    expect(await rejection(call(operator.getUpcomingInvoice.bind(operator), { organizationId: otherOrg, customerId: acme.customer.id, externalId: '' }))).toMatchObject({
      code: 'customer_not_found',
    });
    // The token acts for one organization, the request names another: refused before the handler.
    expect(await rejection(call(operator.getInvoice.bind(operator), { organizationId: org, invoiceId }, otherOrg))).toMatchObject({ code: 'organization_mismatch' });
    const collector = invoicesAs('collector');
    expect(await rejection(call(collector.getInvoice.bind(collector), { organizationId: org, invoiceId }))).toMatchObject({ code: 'caller_not_allowed' });
    expect((await get(org, invoiceId)).id).toBe(invoiceId);
  });
});
