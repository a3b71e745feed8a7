import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingAnchor, PriceModel } from '@polaris/proto';
import { BillingApi, historyOf, lineFigures, refusal, utcMonthStart } from './support/billing';
import { startBillingSystem, type BillingSystem } from './support/billing-system';
import { eventually } from './support/http';
import { meterEvent, type MeterEvent } from './support/meter-events';

/**
 * Golden invoices through the real pipeline (docs/billing.md): events in through the collector
 * (HTTP, API key), through the broker and the sink-worker into ClickHouse; customers, plans and
 * subscriptions made and invoices read over the rating-worker's gRPC, as the gateway does; the
 * invoices opened and computed by the rating jobs (BullMQ). Every expected figure is worked out by
 * hand in the comments, never by the pricing code. Each scenario has an organization of its own,
 * and sends its events before it subscribes, so the job's first computation already sees them.
 *
 * Drafts are finalized 70 days after their period ends: the March 2026 invoice of the DST scenario
 * is finalized by the scheduler at once; the last month's, which the other scenarios bill, stay
 * drafts (a period that ended at most 31 days ago).
 */

const INVOICE_GRACE_MS = 70 * 86_400_000;
const { PRICE_MODEL_FLAT: FLAT, PRICE_MODEL_PER_UNIT: PER_UNIT, PRICE_MODEL_GRADUATED: GRADUATED, PRICE_MODEL_VOLUME: VOLUME, PRICE_MODEL_PACKAGE: PACKAGE } = PriceModel;

const NOW = new Date();
const LAST_MONTH = utcMonthStart(NOW, -1);
const THIS_MONTH = utcMonthStart(NOW, 0);
const DAY = 86_400_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

const usage = (type: string, subject: string, time: Date | string, data: Record<string, number>, identity: { id?: string; source?: string } = {}): MeterEvent =>
  meterEvent({ type, subject, timeMs: new Date(time).getTime(), dataJson: JSON.stringify(data), ...identity });

describe.concurrent('golden invoices, from events through the collector to invoices over gRPC', () => {
  let system: BillingSystem;
  let api: BillingApi;

  beforeAll(async () => {
    system = await startBillingSystem({ label: 'billing-golden', invoiceGraceMs: INVOICE_GRACE_MS });
    api = new BillingApi(system.ratingWorkerAddrs[0] as string);
  });

  afterAll(async () => {
    api?.close();
    await system?.stop();
  });

  it('every price model and a free quota, in USD', async () => {
    const { orgId, apiKey } = await system.createTenant();
    await api.createMeters(orgId, [
      { slug: 'tokens', eventType: 'llm.tokens', valuePath: '$.tokens' },
      { slug: 'requests', eventType: 'api.request' },
    ]);
    const tokens = (subject: string, time: Date, n: number) => usage('llm.tokens', subject, time, { tokens: n });
    const request = (subject: string, time: Date) => usage('api.request', subject, time, { ok: 1 });
    await system.send(apiKey, [
      // Last month, the customer's two subjects: 700.25 + 299.75 + 500 = 1,500 tokens.
      tokens('models-web', at(LAST_MONTH, DAY), 700.25),
      tokens('models-batch', at(LAST_MONTH, 10 * DAY), 299.75),
      tokens('models-web', at(THIS_MONTH, -1), 500),
      // Not last month's, or nobody's: never on this invoice.
      tokens('models-web', at(LAST_MONTH, -1), 100_000),
      tokens('models-web', THIS_MONTH, 100_000),
      tokens('stranger', at(LAST_MONTH, DAY), 100_000),
      // 23 requests last month (and one of a stranger's).
      ...Array.from({ length: 23 }, (_, i) => request(i % 2 ? 'models-web' : 'models-batch', at(LAST_MONTH, (i + 1) * 3_600_000))),
      request('stranger', at(LAST_MONTH, DAY)),
    ]);

    const customer = await api.createCustomer(orgId, { externalId: 'models', currency: 'USD', subjects: ['models-web', 'models-batch'] });
    const tiers = [{ upTo: '1000', unitPrice: '0.01' }, { unitPrice: '0.005', flatFee: '2' }];
    await api.createPublishedPlan(orgId, {
      key: 'every_model',
      currency: 'USD',
      prices: [
        { key: 'platform', model: FLAT, amount: '49' },
        { key: 'tokens_per_unit', model: PER_UNIT, meterSlug: 'tokens', unitPrice: '0.002', freeQuota: '1000' },
        { key: 'tokens_graduated', model: GRADUATED, meterSlug: 'tokens', tiers },
        { key: 'tokens_volume', model: VOLUME, meterSlug: 'tokens', tiers },
        { key: 'requests_package', model: PACKAGE, meterSlug: 'requests', packageSize: '10', packagePrice: '5', freeQuota: '2' },
        { key: 'requests_free', model: PER_UNIT, meterSlug: 'requests', unitPrice: '1', freeQuota: '100' },
      ],
    });
    const sub = await api.subscribe(orgId, { customerId: customer.id, planKey: 'every_model', startAt: LAST_MONTH });

    const invoice = await api.waitForInvoice(orgId, sub.id, LAST_MONTH);
    expect(invoice).toMatchObject({ status: 'draft', currency: 'USD', periodStart: LAST_MONTH, periodEnd: THIS_MONTH, ratingError: '', estimate: false, number: '' });
    expect(invoice.lines.map(lineFigures)).toEqual([
      // FLAT 49, once for the period.
      { key: 'platform', kind: 'flat', quantity: '1', billable: '1', unitPrice: '', amount: '49.00' },
      // PER_UNIT: (1500 − 1000 free) × 0.002 = 1.00.
      { key: 'tokens_per_unit', kind: 'usage', quantity: '1500', billable: '500', unitPrice: '0.002', amount: '1.00' },
      // GRADUATED: 1000 × 0.01 = 10, plus 500 × 0.005 + 2 = 4.5 → 14.50.
      {
        key: 'tokens_graduated',
        kind: 'usage',
        quantity: '1500',
        billable: '1500',
        unitPrice: '',
        amount: '14.50',
        tiers: [
          [1, '0', '1000', '1000', '0.01', '0', '10'],
          [2, '1000', '', '500', '0.005', '2', '4.5'],
        ],
      },
      // VOLUME: 1500 falls in tier 2, which prices all of it: 1500 × 0.005 + 2 = 9.50.
      { key: 'tokens_volume', kind: 'usage', quantity: '1500', billable: '1500', unitPrice: '0.005', amount: '9.50', tiers: [[2, '1000', '', '1500', '0.005', '2', '9.5']] },
      // PACKAGE: 23 − 2 free = 21 units, ceil(21 / 10) = 3 packages × 5 = 15.00.
      { key: 'requests_package', kind: 'usage', quantity: '23', billable: '21', unitPrice: '5', amount: '15.00' },
      // A free quota above the usage: nothing billable.
      { key: 'requests_free', kind: 'usage', quantity: '23', billable: '0', unitPrice: '1', amount: '0.00' },
    ]);
    // 49 + 1 + 14.50 + 9.50 + 15 + 0
    expect([invoice.subtotal, invoice.total]).toEqual(['89.00', '89.00']);
    expect(invoice.linesHash).toMatch(/^[0-9a-f]{64}$/);
    expect(historyOf(invoice)).toEqual([
      ['created', '', 'draft', 'scheduler'],
      ['computed', 'draft', 'draft', 'rating-worker'],
    ]);
  });

  it('a currency with no minor unit (JPY) and one with three (KWD), rounded half to even', async () => {
    const { orgId, apiKey } = await system.createTenant();
    await api.createMeters(orgId, [{ slug: 'units', eventType: 'work.done', valuePath: '$.units' }]);
    await system.send(apiKey, [
      // 1.5 + 3.5 = 5 units each.
      usage('work.done', 'yen-1', at(LAST_MONTH, 2 * DAY), { units: 1.5 }),
      usage('work.done', 'yen-1', at(LAST_MONTH, 20 * DAY), { units: 3.5 }),
      usage('work.done', 'dinar-1', at(LAST_MONTH, 3 * DAY), { units: 1.5 }),
      usage('work.done', 'dinar-1', at(LAST_MONTH, 21 * DAY), { units: 3.5 }),
    ]);
    const plan = (currency: string, flat: string, [down, up, tenth]: [string, string, string]) => ({
      key: `plan_${currency.toLowerCase()}`,
      currency,
      prices: [
        { key: 'base', model: FLAT, amount: flat },
        { key: 'half_down', model: PER_UNIT, meterSlug: 'units', unitPrice: down },
        { key: 'half_up', model: PER_UNIT, meterSlug: 'units', unitPrice: up },
        { key: 'half_to_zero', model: PER_UNIT, meterSlug: 'units', unitPrice: tenth },
      ],
    });
    await api.createPublishedPlan(orgId, plan('JPY', '1200', ['0.5', '0.7', '0.1']));
    await api.createPublishedPlan(orgId, plan('KWD', '1.25', ['0.0005', '0.0007', '0.0001']));
    const yen = await api.createCustomer(orgId, { externalId: 'yen', currency: 'JPY', subjects: ['yen-1'] });
    const dinar = await api.createCustomer(orgId, { externalId: 'dinar', currency: 'KWD', subjects: ['dinar-1'] });
    const [yenSub, dinarSub] = await Promise.all([
      api.subscribe(orgId, { customerId: yen.id, planKey: 'plan_jpy', startAt: LAST_MONTH }),
      api.subscribe(orgId, { customerId: dinar.id, planKey: 'plan_kwd', startAt: LAST_MONTH }),
    ]);
    const [yenInvoice, dinarInvoice] = await Promise.all([api.waitForInvoice(orgId, yenSub.id, LAST_MONTH), api.waitForInvoice(orgId, dinarSub.id, LAST_MONTH)]);

    // JPY, 0 digits: 5 × 0.5 = 2.5 → 2 (even), 5 × 0.7 = 3.5 → 4 (even), 5 × 0.1 = 0.5 → 0 (even).
    // Half-up would say 3, 4, 1 (1208); half-down 2, 3, 0 (1205).
    expect(yenInvoice.currency).toBe('JPY');
    expect(yenInvoice.lines.map((l) => [l.lineKey, l.quantity, l.amount])).toEqual([
      ['base', '1', '1200'],
      ['half_down', '5', '2'],
      ['half_up', '5', '4'],
      ['half_to_zero', '5', '0'],
    ]);
    expect([yenInvoice.subtotal, yenInvoice.total]).toEqual(['1206', '1206']);

    // KWD, 3 digits: 1.25 → 1.250; 5 × 0.0005 = 0.0025 → 0.002, 5 × 0.0007 = 0.0035 → 0.004, 5 × 0.0001 = 0.0005 → 0.000.
    expect(dinarInvoice.currency).toBe('KWD');
    expect(dinarInvoice.lines.map((l) => [l.lineKey, l.quantity, l.amount])).toEqual([
      ['base', '1', '1.250'],
      ['half_down', '5', '0.002'],
      ['half_up', '5', '0.004'],
      ['half_to_zero', '5', '0.000'],
    ]);
    expect([dinarInvoice.subtotal, dinarInvoice.total]).toEqual(['1.256', '1.256']);
  });

  it('a calendar anchor in America/New_York across the March 2026 DST change, finalized by the scheduler after its grace', async () => {
    const { orgId, apiKey } = await system.createTenant();
    await api.createMeters(orgId, [{ slug: 'calls', eventType: 'api.call', valuePath: '$.n' }]);
    // March 2026 in New York: from 00:00 EST on the 1st (05:00Z) to 00:00 EDT on April 1st (04:00Z),
    // 743 hours. Each event's value is a distinct power of ten, so the quantity says which it holds.
    await system.send(apiKey, [
      usage('api.call', 'ny-1', '2026-03-01T04:59:59.999Z', { n: 1 }), // Feb 28, 23:59:59.999 EST: outside
      usage('api.call', 'ny-1', '2026-03-01T05:00:00.000Z', { n: 10 }), // Mar 1, 00:00 EST: the first instant
      usage('api.call', 'ny-1', '2026-03-08T06:59:59.999Z', { n: 100 }), // 01:59:59.999 EST, then the clock jumps
      usage('api.call', 'ny-1', '2026-03-08T07:00:00.000Z', { n: 1_000 }), // 03:00 EDT
      usage('api.call', 'ny-1', '2026-04-01T03:59:59.999Z', { n: 10_000 }), // Mar 31, 23:59:59.999 EDT: the last instant
      usage('api.call', 'ny-1', '2026-04-01T04:00:00.000Z', { n: 100_000 }), // Apr 1, 00:00 EDT: April's first
    ]);
    const customer = await api.createCustomer(orgId, { externalId: 'new-york', currency: 'USD', timeZone: 'America/New_York', subjects: ['ny-1'] });
    await api.createPublishedPlan(orgId, { key: 'calls', currency: 'USD', prices: [{ key: 'calls', model: PER_UNIT, meterSlug: 'calls', unitPrice: '0.001' }] });
    const sub = await api.subscribe(orgId, { customerId: customer.id, planKey: 'calls', startAt: new Date('2026-03-01T05:00:00Z') });

    const MARCH = new Date('2026-03-01T05:00:00.000Z');
    const APRIL = new Date('2026-04-01T04:00:00.000Z');
    const MAY = new Date('2026-05-01T04:00:00.000Z');
    const march = await api.waitForInvoice(orgId, sub.id, MARCH);
    expect([march.periodStart, march.periodEnd]).toEqual([MARCH, APRIL]);
    // 10 + 100 + 1,000 + 10,000 = 11,110 × 0.001 = 11.11. (UTC months would give 1,111; a fixed
    // EST offset 111,110; a fixed EDT offset 11,111.)
    expect(march.lines.map((l) => [l.lineKey, l.usagePeriodStart, l.usagePeriodEnd, l.quantity, l.amount])).toEqual([['calls', MARCH, APRIL, '11110', '11.11']]);
    expect(march.total).toBe('11.11');
    const april = await api.waitForInvoice(orgId, sub.id, APRIL);
    expect([april.periodStart, april.periodEnd]).toEqual([APRIL, MAY]);
    // 100,000 × 0.001 = 100.00: the event at April's first instant, and no March adjustment (none was late).
    expect(april.lines.map((l) => [l.lineKey, l.quantity, l.amount])).toEqual([['calls', '100000', '100.00']]);

    // March closed more than the 70-day grace ago: the scheduler finalizes it, recomputing it one
    // last time (same lines), and the history says so. (Its draft is due for finalization from the
    // moment it is opened, so a finalize job may take the claim before the rate-period job computes
    // it; that job then finds it finalized and leaves it: the other history that may be written.)
    const finalized = await eventually(async () => {
      const now = await api.getInvoice(orgId, march.id);
      return now.status === 'finalized' ? now : undefined;
    }, 'the scheduler to finalize the March invoice');
    expect(finalized.number).toMatch(/^INV-\d{6}$/);
    expect([finalized.total, finalized.linesHash]).toEqual(['11.11', march.linesHash]);
    const created = ['created', '', 'draft', 'scheduler'];
    const finalizedByScheduler = ['finalized', 'draft', 'finalized', 'scheduler'];
    expect([
      [created, ['computed', 'draft', 'draft', 'rating-worker'], ['recomputed', 'draft', 'draft', 'scheduler'], finalizedByScheduler],
      [created, ['computed', 'draft', 'draft', 'scheduler'], finalizedByScheduler],
    ]).toContainEqual(historyOf(finalized));
  });

  it('duplicates: the same events sent again (same source and id) are billed once', async () => {
    const { orgId, apiKey } = await system.createTenant();
    await api.createMeters(orgId, [{ slug: 'calls', eventType: 'api.call', valuePath: '$.n' }]);
    const batch = [1, 10, 100, 1_000].map((n, i) => usage('api.call', 'dup-1', at(LAST_MONTH, (i + 1) * DAY), { n }));
    const first = batch[0] as MeterEvent;
    await system.send(apiKey, batch);
    await system.send(apiKey, batch);
    await system.send(apiKey, [
      ...batch,
      usage('api.call', 'dup-1', at(LAST_MONTH, 5 * DAY), { n: 10_000 }),
      // The same id from another source is another event.
      { ...first, source: 'another-source', dataJson: JSON.stringify({ n: 100_000 }) },
    ]);
    const customer = await api.createCustomer(orgId, { externalId: 'duplicates', currency: 'USD', subjects: ['dup-1'] });
    await api.createPublishedPlan(orgId, { key: 'calls', currency: 'USD', prices: [{ key: 'calls', model: PER_UNIT, meterSlug: 'calls', unitPrice: '0.01' }] });
    const sub = await api.subscribe(orgId, { customerId: customer.id, planKey: 'calls', startAt: LAST_MONTH });

    const invoice = await api.waitForInvoice(orgId, sub.id, LAST_MONTH);
    // 1 + 10 + 100 + 1,000 once, + 10,000 + 100,000 = 111,111 × 0.01 = 1,111.11 (sent three times, it would be 113,333).
    expect(invoice.lines.map((l) => [l.lineKey, l.quantity, l.amount])).toEqual([['calls', '111111', '1111.11']]);
    expect(invoice.total).toBe('1111.11');
  });

  it('the estimate: the current period so far, marked as such, never stored', async () => {
    const { orgId, apiKey } = await system.createTenant();
    await api.createMeters(orgId, [{ slug: 'calls', eventType: 'api.call', valuePath: '$.n' }]);
    // An anniversary subscription that started three days ago (whole minutes): its current period
    // runs to the same day and time next month.
    const start = new Date(Math.floor((NOW.getTime() - 3 * DAY) / 60_000) * 60_000);
    const lastDayOfNextMonth = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 2, 0)).getUTCDate();
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, Math.min(start.getUTCDate(), lastDayOfNextMonth), start.getUTCHours(), start.getUTCMinutes()));
    await system.send(apiKey, [
      usage('api.call', 'est-1', at(start, 60_000), { n: 7 }),
      usage('api.call', 'est-1', at(start, DAY), { n: 13 }),
      usage('api.call', 'est-1', at(start, 2 * DAY), { n: 10 }),
      usage('api.call', 'est-1', at(start, -60_000), { n: 1_000 }), // before the period
      usage('api.call', 'est-1', at(NOW, 3_600_000), { n: 100_000 }), // dated an hour ahead: not "so far"
    ]);
    const customer = await api.createCustomer(orgId, { externalId: 'estimate', currency: 'USD', subjects: ['est-1'] });
    const idle = await api.createCustomer(orgId, { externalId: 'idle', currency: 'USD', subjects: ['idle-1'] });
    await api.createPublishedPlan(orgId, {
      key: 'estimated',
      currency: 'USD',
      prices: [
        { key: 'base', model: FLAT, amount: '10' },
        { key: 'calls', model: PER_UNIT, meterSlug: 'calls', unitPrice: '0.05' },
      ],
    });
    const sub = await api.subscribe(orgId, { customerId: customer.id, planKey: 'estimated', startAt: start, anchor: BillingAnchor.BILLING_ANCHOR_ANNIVERSARY });

    const estimate = await api.upcoming(orgId, customer.id);
    expect(estimate).toMatchObject({ estimate: true, status: 'estimate', id: '', number: '', subscriptionId: sub.id, currency: 'USD', periodStart: start, periodEnd: end });
    // 10 flat, + (7 + 13 + 10) × 0.05 = 1.50 → 11.50.
    expect(estimate.lines.map((l) => [l.lineKey, l.kind, l.quantity, l.amount])).toEqual([
      ['base', 'flat', '1', '10.00'],
      ['calls', 'usage', '30', '1.50'],
    ]);
    expect([estimate.subtotal, estimate.total]).toEqual(['11.50', '11.50']);
    expect(await api.listInvoices(orgId, sub.id)).toEqual([]);

    const none = await refusal(api.upcoming(orgId, idle.id));
    expect({ grpcCode: none.grpcCode, code: none.code }).toEqual({ grpcCode: status.FAILED_PRECONDITION, code: 'no_active_subscription' });
  });
});
