import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceModel } from '@polaris/proto';
import { BillingApi, historyOf, lineFigures, linesAndTotalsBytes, refusal, RpcError, utcMonthStart } from './support/billing';
import { startBillingSystem, type BillingSystem } from './support/billing-system';
import { meterEvent, type MeterEvent } from './support/meter-events';
import { metric } from './support/private-services';

/**
 * The invoice lifecycle through the real pipeline (docs/billing.md, "Invoice lifecycle" and "Why
 * the result does not depend on when the job runs"), on two rating-worker processes sharing one
 * PostgreSQL, one Redis and one queue, as replicas do: late usage after finalization, recomputes
 * on either process, refused transitions and the history, and one invoice per period whoever
 * rates it. Events go in through the collector; invoices are read and acted on over gRPC, as the
 * gateway (or the operator CLI) does. Every figure is worked out by hand in the comments.
 *
 * No draft is finalized automatically here (a grace of a year): the test finalizes by hand.
 */

const INVOICE_GRACE_MS = 365 * 86_400_000;
const { PRICE_MODEL_FLAT: FLAT, PRICE_MODEL_PER_UNIT: PER_UNIT, PRICE_MODEL_GRADUATED: GRADUATED } = PriceModel;

const NOW = new Date();
const DAY = 86_400_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const call = (subject: string, time: Date, n: number): MeterEvent => meterEvent({ type: 'api.call', subject, timeMs: time.getTime(), dataJson: JSON.stringify({ n }) });

describe.concurrent('the invoice lifecycle, on two rating-worker processes', () => {
  let system: BillingSystem;
  /** The gateway's view of each process. */
  let one: BillingApi;
  let two: BillingApi;

  beforeAll(async () => {
    system = await startBillingSystem({ label: 'billing-lifecycle', invoiceGraceMs: INVOICE_GRACE_MS, ratingWorkers: 2 });
    one = new BillingApi(system.ratingWorkerAddrs[0] as string);
    two = new BillingApi(system.ratingWorkerAddrs[1] as string);
  });

  afterAll(async () => {
    one?.close();
    two?.close();
    await system?.stop();
  });

  it('a late event after finalization: a labelled adjustment on the next invoice, the finalized one unchanged, recomputes byte-identical', async () => {
    const { orgId, apiKey } = await system.createTenant();
    const operator = one.as('operator');
    await one.createMeters(orgId, [{ slug: 'calls', eventType: 'api.call', valuePath: '$.n' }]);
    const P = utcMonthStart(NOW, -2);
    const NEXT = utcMonthStart(NOW, -1);
    const CURRENT = utcMonthStart(NOW, 0);
    await system.send(apiKey, [call('late-1', at(P, DAY), 4), call('late-1', at(P, 5 * DAY), 6), call('late-1', at(NEXT, 2 * DAY), 4)]);
    const customer = await one.createCustomer(orgId, { externalId: 'late', currency: 'USD', subjects: ['late-1'] });
    await one.createPublishedPlan(orgId, {
      key: 'late',
      currency: 'USD',
      prices: [
        { key: 'calls', name: 'API calls', model: PER_UNIT, meterSlug: 'calls', unitPrice: '0.25', freeQuota: '2' },
        { key: 'calls_tiered', name: 'API calls, tiered', model: GRADUATED, meterSlug: 'calls', tiers: [{ upTo: '10', unitPrice: '1' }, { unitPrice: '0.1', flatFee: '5' }] },
      ],
    });
    const sub = await one.subscribe(orgId, { customerId: customer.id, planKey: 'late', startAt: P });
    const [period, next] = await Promise.all([one.waitForInvoice(orgId, sub.id, P), one.waitForInvoice(orgId, sub.id, NEXT)]);

    // P: 10 calls. (10 − 2 free) × 0.25 = 2.00; tiered: 10 × 1 = 10.00 (tier 2 not reached, no flat fee).
    expect(period.lines.map(lineFigures)).toEqual([
      { key: 'calls', kind: 'usage', quantity: '10', billable: '8', unitPrice: '0.25', amount: '2.00' },
      { key: 'calls_tiered', kind: 'usage', quantity: '10', billable: '10', unitPrice: '', amount: '10.00', tiers: [[1, '0', '10', '10', '1', '0', '10']] },
    ]);
    expect(period.total).toBe('12.00');
    // The next period: 4 calls. (4 − 2) × 0.25 = 0.50; tiered: 4 × 1 = 4.00.
    expect(next.total).toBe('4.50');

    const finalized = await operator.finalize(orgId, period.id);
    expect(finalized).toMatchObject({ status: 'finalized', number: 'INV-000001', total: '12.00', linesHash: period.linesHash });

    // A late event dated inside P, after P's invoice was finalized.
    await system.send(apiKey, [call('late-1', at(P, 20 * DAY), 3)]);
    const recomputed = await operator.recompute(orgId, next.id);
    const label = P.toISOString().slice(0, 7); // P's month, as the UTC customer's invoice names it
    expect(recomputed.lines.map((l) => ({ ...lineFigures(l), description: l.description, periodQuantity: l.periodQuantity, usage: [l.usagePeriodStart, l.usagePeriodEnd] }))).toEqual([
      { key: 'calls', kind: 'usage', quantity: '4', billable: '2', unitPrice: '0.25', amount: '0.50', description: 'API calls', periodQuantity: '4', usage: [NEXT, CURRENT] },
      {
        key: 'calls_tiered',
        kind: 'usage',
        quantity: '4',
        billable: '4',
        unitPrice: '',
        amount: '4.00',
        tiers: [[1, '0', '10', '4', '1', '0', '4']],
        description: 'API calls, tiered',
        periodQuantity: '4',
        usage: [NEXT, CURRENT],
      },
      // P now holds 13 calls: (13 − 2) × 0.25 = 2.75, less the 2.00 billed = 0.75, for 3 more calls.
      {
        key: `adjustment:${P.toISOString()}:calls`,
        kind: 'adjustment',
        quantity: '3',
        billable: '',
        unitPrice: '0.25',
        amount: '0.75',
        description: `API calls — late usage for ${label}`,
        periodQuantity: '13',
        usage: [P, NEXT],
      },
      // Tiered: 10 × 1 + 3 × 0.1 + 5 = 15.30, less the 10.00 billed = 5.30.
      {
        key: `adjustment:${P.toISOString()}:calls_tiered`,
        kind: 'adjustment',
        quantity: '3',
        billable: '',
        unitPrice: '',
        amount: '5.30',
        description: `API calls, tiered — late usage for ${label}`,
        periodQuantity: '13',
        usage: [P, NEXT],
      },
    ]);
    // 0.50 + 4.00 + 0.75 + 5.30
    expect([recomputed.subtotal, recomputed.total]).toEqual(['10.55', '10.55']);

    // The finalized invoice did not move.
    const frozen = await two.getInvoice(orgId, period.id);
    expect(frozen).toMatchObject({ status: 'finalized', number: 'INV-000001', linesHash: finalized.linesHash });
    expect(linesAndTotalsBytes(frozen).equals(linesAndTotalsBytes(finalized))).toBe(true);

    // Recomputed again, on the other process: the same bytes.
    const again = await two.as('operator').recompute(orgId, next.id, 'api-key:e2e-billing');
    expect(linesAndTotalsBytes(again).equals(linesAndTotalsBytes(recomputed))).toBe(true);
    expect(again.linesHash).toBe(recomputed.linesHash);
    expect(historyOf(again)).toEqual([
      ['created', '', 'draft', 'scheduler'],
      ['computed', 'draft', 'draft', 'rating-worker'],
      ['recomputed', 'draft', 'draft', 'operator'],
      ['recomputed', 'draft', 'draft', 'api-key:e2e-billing'],
    ]);
    expect(JSON.parse(again.history[2]?.detail ?? '{}')).toMatchObject({ totalBefore: '4.50', totalAfter: '10.55' });

    // Finalized with the same lines; P's late usage is then billed once: the estimate of the
    // current period carries no adjustment (2.00 + 0.75 = 2.75 and 10.00 + 5.30 = 15.30 are P's due).
    const nextFinal = await operator.finalize(orgId, next.id);
    expect(nextFinal).toMatchObject({ status: 'finalized', number: 'INV-000002', total: '10.55', linesHash: recomputed.linesHash });
    const estimate = await one.upcoming(orgId, customer.id);
    expect(estimate.lines.map((l) => [l.lineKey, l.kind, l.amount])).toEqual([
      ['calls', 'usage', '0.00'],
      ['calls_tiered', 'usage', '0.00'],
    ]);
  });

  it('refused transitions name both statuses, leave no trace, and the history says who did what', async () => {
    const { orgId } = await system.createTenant();
    const customer = await one.createCustomer(orgId, { externalId: 'lifecycle', currency: 'USD', subjects: ['life-1'] });
    await one.createPublishedPlan(orgId, { key: 'flat', currency: 'USD', prices: [{ key: 'base', model: FLAT, amount: '5' }] });
    const sub = await one.subscribe(orgId, { customerId: customer.id, planKey: 'flat', startAt: utcMonthStart(NOW, -1) });
    const draft = await one.waitForInvoice(orgId, sub.id, utcMonthStart(NOW, -1));
    expect([draft.status, draft.total]).toEqual(['draft', '5.00']);
    const id = draft.id;
    const refused = (err: RpcError) => ({ grpcCode: err.grpcCode, code: err.code, field: err.field, message: err.message });
    const transition = (message: string) => ({ grpcCode: status.FAILED_PRECONDITION, code: 'invalid_invoice_transition', field: 'invoice_id', message });

    expect(refused(await refusal(two.markPaid(orgId, id, 'api-key:e2e-billing')))).toEqual(transition(`invoice ${id} is draft: only a finalized invoice can become paid`));

    const voided = await one.voidInvoice(orgId, id, 'api-key:e2e-billing');
    expect(voided.status).toBe('void');
    expect(voided.voidedAt).toBeInstanceOf(Date);

    expect(refused(await refusal(two.as('operator').finalize(orgId, id)))).toEqual(transition(`invoice ${id} is void: only a draft invoice can become finalized`));
    expect(refused(await refusal(one.finalize(orgId, id, 'api-key:e2e-billing')))).toEqual(transition(`invoice ${id} is void: only a draft invoice can become finalized`));
    expect(refused(await refusal(one.recompute(orgId, id)))).toEqual(transition(`invoice ${id} is void: only a draft invoice can be recomputed`));
    expect(refused(await refusal(two.markPaid(orgId, id)))).toEqual(transition(`invoice ${id} is void: only a finalized invoice can become paid`));

    const after = await two.getInvoice(orgId, id);
    expect(after).toMatchObject({ status: 'void', number: '', total: '5.00', linesHash: draft.linesHash });
    expect(historyOf(after)).toEqual([
      ['created', '', 'draft', 'scheduler'],
      ['computed', 'draft', 'draft', 'rating-worker'],
      ['voided', 'draft', 'void', 'api-key:e2e-billing'],
    ]);
  });

  it('two rating-worker processes: exactly one invoice per period, and one finalization when both are asked at once', async () => {
    const { orgId } = await system.createTenant();
    const customer = await one.createCustomer(orgId, { externalId: 'replicas', currency: 'USD', subjects: ['rep-1'] });
    await one.createPublishedPlan(orgId, { key: 'flat', currency: 'USD', prices: [{ key: 'base', model: FLAT, amount: '1' }] });
    const periods = [-4, -3, -2, -1].map((offset) => utcMonthStart(NOW, offset));
    const sub = await one.subscribe(orgId, { customerId: customer.id, planKey: 'flat', startAt: periods[0] as Date });
    // A subscription four periods behind catches up one period per scan.
    await Promise.all(periods.map((p) => one.waitForInvoice(orgId, sub.id, p)));

    const listed = await two.listInvoices(orgId, sub.id);
    expect(listed.map((i) => i.periodStart?.toISOString()).sort()).toEqual(periods.map((p) => p.toISOString()));
    expect(listed.every((i) => i.total === '1.00')).toBe(true);

    const oldest = listed.find((i) => i.periodStart?.getTime() === periods[0]?.getTime());
    if (!oldest) throw new Error('no invoice for the oldest period');
    const outcomes = await Promise.allSettled([one.as('operator').finalize(orgId, oldest.id), two.as('operator').finalize(orgId, oldest.id)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(won).toHaveLength(1);
    // The loser found the draft claimed by the winner (invoice_busy, retryable), or already finalized.
    expect(lost.map((err) => (err instanceof RpcError ? err.code : String(err)))).toEqual([expect.stringMatching(/^(invoice_busy|invalid_invoice_transition)$/)]);

    const finalized = await one.getInvoice(orgId, oldest.id);
    expect(finalized).toMatchObject({ status: 'finalized', number: 'INV-000001' });
    expect(historyOf(finalized).filter(([action]) => action === 'finalized')).toEqual([['finalized', 'draft', 'finalized', 'operator']]);
    expect((await one.listInvoices(orgId, sub.id)).map((i) => i.number).filter(Boolean)).toEqual(['INV-000001']);

    // Both processes took jobs from the one queue (scans every second, rate-period jobs): two
    // replicas really were at work, and still each period has one invoice.
    for (const port of system.ratingOpsPorts) expect(await metric(port, 'rating_jobs_total')).toBeGreaterThan(0);
  });
});
