import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Price } from '@polaris/shared/billing';
import { organizations } from '../identity/organizations.repository';
import type { Pool } from '../pool';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { billingCycle } from './billing-cycle.repository';
import { invoices } from './invoices.repository';
import { computationOf, seedSubscription } from './invoices.fixtures';

// The invoice repositories over a real PostgreSQL: opening periods (and racing for one), claims,
// computations, the lifecycle and its trigger, the history, adjustments' sums, tenancy. A database
// of its own: the scheduler's queries (due subscriptions, drafts to finalize) are global.

let db: ThrowawayPostgres;
let pool: Pool;

beforeAll(async () => {
  db = await throwawayPostgres({ poolMax: 8 });
  pool = db.pool;
});
afterAll(async () => db?.drop());

const freshOrg = async () => (await organizations.create(pool, { name: 'Billing', slug: `inv-${randomBytes(4).toString('hex')}` })).id;

async function refusal(p: Promise<unknown>): Promise<Record<string, unknown>> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err as Record<string, unknown>,
  );
}

const PRICES: Price[] = [
  { key: 'platform', name: 'Platform', model: 'FLAT', amount: '49', freeQuota: '0' },
  { key: 'api_calls', name: 'API calls', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.01', freeQuota: '0' },
];
const JAN = new Date('2026-01-01T00:00:00Z');
const FEB = new Date('2026-02-01T00:00:00Z');
const MAR = new Date('2026-03-01T00:00:00Z');
const settings = { settleMs: 0, graceMs: 3_600_000, actor: 'scheduler' };

async function openedDraft(organizationId: string, startAt = JAN) {
  const seeded = await seedSubscription(pool, { organizationId, prices: PRICES, startAt, subjects: [`s-${randomBytes(3).toString('hex')}`] });
  const opened = await billingCycle.openPeriod(pool, { organizationId, subscriptionId: seeded.subscriptionId, periodStart: startAt, ...settings });
  if (!opened) throw new Error('the period did not open');
  return { ...seeded, invoiceId: opened.invoiceId };
}

const januaryLines = (calls: string, amount: string, period = { start: JAN, end: FEB }) =>
  computationOf([
    { lineKey: 'platform', kind: 'flat', description: 'Platform', priceKey: 'platform', usagePeriodStart: period.start, usagePeriodEnd: period.end, quantity: '1', amount: '49.00' },
    {
      lineKey: 'api_calls', kind: 'usage', description: 'API calls', priceKey: 'api_calls', meterSlug: 'api_calls', meterVersionId: '7',
      usagePeriodStart: period.start, usagePeriodEnd: period.end, quantity: calls, billableQuantity: calls, unitPrice: '0.01', amount, periodQuantity: calls,
    },
  ]);

async function claimed(organizationId: string, invoiceId: string, claimer = 'worker-a') {
  const outcome = await invoices.claim(pool, { organizationId, invoiceId, claimer, ttlMs: 60_000 });
  if (!('claimed' in outcome)) throw new Error(`claim refused: ${outcome.refused}`);
  return claimer;
}

async function finalized(organizationId: string, invoiceId: string, computation = januaryLines('100', '1.00')) {
  const claimer = await claimed(organizationId, invoiceId, `finalizer-${invoiceId}`);
  const { subscriptionId } = await invoices.get(pool, { organizationId, invoiceId });
  const { basis } = await invoices.billedForPeriod(pool, { organizationId, subscriptionId, before: new Date(0), since: new Date(0) });
  return invoices.finalize(pool, { organizationId, invoiceId, claimer, actor: 'scheduler', computation, basis });
}

describe('opening a period', () => {
  it('makes one draft and one claim winner when two workers race for the same period', async () => {
    const org = await freshOrg();
    const { subscriptionId } = await seedSubscription(pool, { organizationId: org, prices: PRICES, startAt: JAN });
    const race = (claimer: string) =>
      billingCycle.openPeriod(pool, { organizationId: org, subscriptionId, periodStart: JAN, ...settings }).then(async (opened) => {
        if (!opened) throw new Error('not opened');
        return { opened, outcome: await invoices.claim(pool, { organizationId: org, invoiceId: opened.invoiceId, claimer, ttlMs: 60_000 }) };
      });
    const results = await Promise.all([race('worker-a'), race('worker-b'), race('worker-c')]);
    expect(new Set(results.map((r) => r.opened.invoiceId)).size).toBe(1);
    expect(results.filter((r) => r.opened.created)).toHaveLength(1);
    expect(results.filter((r) => 'claimed' in r.outcome)).toHaveLength(1);
    expect(results.filter((r) => 'refused' in r.outcome).map((r) => 'refused' in r.outcome && r.outcome.refused)).toEqual(['claimed', 'claimed']);

    const { rows } = await pool.query('SELECT count(*)::int AS n FROM invoices WHERE subscription_id = $1', [subscriptionId]);
    expect(rows[0]).toEqual({ n: 1 });
    const { rows: subs } = await pool.query('SELECT billed_through, next_period_end, status FROM subscriptions WHERE id = $1', [subscriptionId]);
    expect(subs[0]).toEqual({ billed_through: FEB, next_period_end: MAR, status: 'active' });

    const invoice = await invoices.get(pool, { organizationId: org, invoiceId: results[0]?.opened.invoiceId ?? '' });
    expect(invoice).toMatchObject({ status: 'draft', periodStart: JAN, periodEnd: FEB, currency: 'USD', finalizeAfter: new Date(FEB.getTime() + 3_600_000), lines: [] });
    expect(invoice.history).toMatchObject([{ action: 'created', toStatus: 'draft', actor: 'scheduler', detail: { periodStart: JAN.toISOString() } }]);
  });

  it('opens nothing before the period has settled, and ends a subscription canceled at the period end', async () => {
    const org = await freshOrg();
    const now = new Date();
    const current = await seedSubscription(pool, { organizationId: org, prices: PRICES, startAt: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)) });
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    expect(await billingCycle.openPeriod(pool, { organizationId: org, subscriptionId: current.subscriptionId, periodStart: start, ...settings })).toBeUndefined();

    const canceled = await seedSubscription(pool, { organizationId: org, prices: PRICES, startAt: JAN, cancelAt: FEB });
    expect(await billingCycle.openPeriod(pool, { organizationId: org, subscriptionId: canceled.subscriptionId, periodStart: JAN, ...settings })).toMatchObject({ created: true });
    const { rows } = await pool.query('SELECT status FROM subscriptions WHERE id = $1', [canceled.subscriptionId]);
    expect(rows[0]).toEqual({ status: 'canceled' });
    expect(await billingCycle.openPeriod(pool, { organizationId: org, subscriptionId: canceled.subscriptionId, periodStart: FEB, ...settings })).toBeUndefined();
  });

  it('lists due subscriptions page by page, across organizations', async () => {
    const org = await freshOrg();
    const a = await seedSubscription(pool, { organizationId: org, prices: PRICES, startAt: new Date('2020-01-01T00:00:00Z') });
    const due = [];
    let after: { periodEnd: Date; subscriptionId: string } | undefined;
    for (;;) {
      const page = await billingCycle.dueSubscriptions(pool, { settleMs: 300_000, limit: 2, ...(after ? { after } : {}) });
      due.push(...page);
      const last = page.at(-1);
      if (!last) break;
      after = { periodEnd: last.period.end, subscriptionId: last.subscriptionId };
    }
    expect(due.find((d) => d.subscriptionId === a.subscriptionId)).toEqual({
      organizationId: org,
      subscriptionId: a.subscriptionId,
      period: { start: new Date('2020-01-01T00:00:00Z'), end: new Date('2020-02-01T00:00:00Z') },
    });
    expect(new Set(due.map((d) => d.subscriptionId)).size).toBe(due.length);
  });
});

describe('computing a draft', () => {
  it('writes lines and totals under the claim, recording computed then recomputed with the totals', async () => {
    const org = await freshOrg();
    const { invoiceId } = await openedDraft(org);
    const claimer = await claimed(org, invoiceId);
    const first = januaryLines('100', '1.00');
    await invoices.writeComputation(pool, { organizationId: org, invoiceId, claimer, actor: 'rating-worker', computation: first });
    // The claim was released: a second worker may take the draft at once.
    const again = await claimed(org, invoiceId, 'worker-b');
    await invoices.writeComputation(pool, { organizationId: org, invoiceId, claimer: again, actor: 'operator', computation: januaryLines('250.5', '2.51') });

    const invoice = await invoices.get(pool, { organizationId: org, invoiceId });
    expect(invoice).toMatchObject({ status: 'draft', subtotal: '51.51', total: '51.51' });
    expect(invoice.lines.map((l) => [l.lineKey, l.position, l.quantity, l.amount, l.periodQuantity])).toEqual([
      ['platform', 0, '1', '49.00', undefined],
      ['api_calls', 1, '250.5', '2.51', '250.5'],
    ]);
    expect(invoice.history.map((e) => [e.action, e.actor, e.detail.totalBefore ?? null, e.detail.totalAfter ?? null])).toEqual([
      ['created', 'scheduler', null, null],
      ['computed', 'rating-worker', null, '50.00'],
      ['recomputed', 'operator', '50.00', '51.51'],
    ]);
  });

  it('writes nothing once the claim is lost or the draft is void, and records failures', async () => {
    const org = await freshOrg();
    const { invoiceId } = await openedDraft(org);
    await claimed(org, invoiceId, 'worker-a');
    const lost = refusal(invoices.writeComputation(pool, { organizationId: org, invoiceId, claimer: 'worker-b', actor: 'rating-worker', computation: januaryLines('1', '0.01') }));
    expect(await lost).toMatchObject({ code: 'invoice_claim_lost' });

    expect(await invoices.recordRatingFailure(pool, { organizationId: org, invoiceId, claimer: 'worker-b', actor: 'rating-worker', error: 'not mine' })).toBe(false);
    expect(await invoices.recordRatingFailure(pool, { organizationId: org, invoiceId, claimer: 'worker-a', actor: 'rating-worker', error: 'usage_incomplete: backfilling' })).toBe(true);
    const failed = await invoices.get(pool, { organizationId: org, invoiceId });
    expect(failed.ratingError).toBe('usage_incomplete: backfilling');
    expect(failed.history.at(-1)).toMatchObject({ action: 'rating_failed', detail: { error: 'usage_incomplete: backfilling' } });

    const claimer = await claimed(org, invoiceId, 'worker-c');
    await invoices.void(pool, { organizationId: org, invoiceId, actor: 'operator' });
    expect(await refusal(invoices.writeComputation(pool, { organizationId: org, invoiceId, claimer, actor: 'rating-worker', computation: januaryLines('1', '0.01') }))).toMatchObject({
      code: 'invalid_invoice_transition',
    });
    expect(await invoices.claim(pool, { organizationId: org, invoiceId, claimer: 'worker-d', ttlMs: 1_000 })).toMatchObject({ refused: 'not_draft' });
  });
});

describe('the lifecycle', () => {
  it('numbers finalized invoices per organization without gaps and freezes them', async () => {
    const org = await freshOrg();
    const first = await openedDraft(org);
    const second = await openedDraft(org);
    const a = await finalized(org, first.invoiceId);
    const b = await finalized(org, second.invoiceId);
    expect([a.number, b.number]).toEqual(['INV-000001', 'INV-000002']);
    expect(a).toMatchObject({ status: 'finalized', total: '50.00' });
    const other = await freshOrg();
    expect((await finalized(other, (await openedDraft(other)).invoiceId)).number).toBe('INV-000001');

    // The trigger, not the repository, is what refuses: try behind its back.
    await expect(pool.query("UPDATE invoices SET total = 1 WHERE id = $1", [first.invoiceId])).rejects.toThrow(/finalized and never changes/);
    await expect(pool.query("UPDATE invoice_lines SET amount = 0 WHERE invoice_id = $1", [first.invoiceId])).rejects.toThrow(/lines never change/);
    await expect(pool.query("DELETE FROM invoice_lines WHERE invoice_id = $1", [first.invoiceId])).rejects.toThrow(/lines never change/);
    expect(await invoices.claim(pool, { organizationId: org, invoiceId: first.invoiceId, claimer: 'late', ttlMs: 1_000 })).toMatchObject({ refused: 'not_draft' });
  });

  it('refuses transitions the lifecycle does not have, naming the statuses', async () => {
    const org = await freshOrg();
    const { invoiceId } = await openedDraft(org);
    expect(await refusal(invoices.markPaid(pool, { organizationId: org, invoiceId, actor: 'operator' }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'invalid_invoice_transition',
      message: expect.stringMatching(/is draft: only a finalized invoice can become paid/),
    });
    await invoices.void(pool, { organizationId: org, invoiceId, actor: 'operator' });
    expect(await refusal(invoices.void(pool, { organizationId: org, invoiceId, actor: 'operator' }))).toMatchObject({
      message: expect.stringMatching(/is void: only a draft or finalized invoice can become void/),
    });

    const paid = await openedDraft(org);
    await finalized(org, paid.invoiceId);
    await invoices.markPaid(pool, { organizationId: org, invoiceId: paid.invoiceId, actor: 'api-key:k1' });
    expect(await refusal(invoices.void(pool, { organizationId: org, invoiceId: paid.invoiceId, actor: 'operator' }))).toMatchObject({
      message: expect.stringMatching(/is paid: only a draft or finalized invoice can become void/),
    });
    const history = (await invoices.get(pool, { organizationId: org, invoiceId: paid.invoiceId })).history;
    expect(history.map((e) => [e.action, e.fromStatus ?? null, e.toStatus, e.actor])).toEqual([
      ['created', null, 'draft', 'scheduler'],
      ['computed', 'draft', 'draft', 'scheduler'],
      ['finalized', 'draft', 'finalized', 'scheduler'],
      ['paid', 'finalized', 'paid', 'api-key:k1'],
    ]);
  });

  it('finalizes a void invoice with a clear refusal', async () => {
    const org = await freshOrg();
    const { invoiceId } = await openedDraft(org);
    const claimer = await claimed(org, invoiceId);
    await invoices.void(pool, { organizationId: org, invoiceId, actor: 'operator' });
    const err = await refusal(invoices.finalize(pool, { organizationId: org, invoiceId, claimer, actor: 'operator', computation: januaryLines('1', '0.01'), basis: '' }));
    expect(err).toMatchObject({ kind: 'failed_precondition', code: 'invalid_invoice_transition', message: `invoice ${invoiceId} is void: only a draft invoice can become finalized` });
  });
});

describe('tenancy', () => {
  it("finds nothing of another organization's, by any door", async () => {
    const mine = await freshOrg();
    const theirs = await freshOrg();
    const { invoiceId, subscriptionId } = await openedDraft(mine);
    const notFound = { kind: 'not_found', code: 'invoice_not_found' };
    expect(await refusal(invoices.get(pool, { organizationId: theirs, invoiceId }))).toMatchObject(notFound);
    expect(await refusal(invoices.claim(pool, { organizationId: theirs, invoiceId, claimer: 'x', ttlMs: 1_000 }))).toMatchObject(notFound);
    expect(await refusal(invoices.markPaid(pool, { organizationId: theirs, invoiceId, actor: 'operator' }))).toMatchObject(notFound);
    expect(await refusal(invoices.void(pool, { organizationId: theirs, invoiceId, actor: 'operator' }))).toMatchObject(notFound);
    expect(await refusal(invoices.get(pool, { organizationId: theirs, invoiceId: 'not-a-uuid' }))).toMatchObject(notFound);
    expect((await invoices.list(pool, { organizationId: theirs })).invoices).toEqual([]);
    expect(await billingCycle.openPeriod(pool, { organizationId: theirs, subscriptionId, periodStart: FEB, ...settings })).toBeUndefined();
    expect(await refusal(billingCycle.partyOf(pool, theirs, subscriptionId))).toMatchObject({ code: 'subscription_not_found' });
    expect((await invoices.get(pool, { organizationId: mine, invoiceId })).status).toBe('draft');
  });
});

describe('listing', () => {
  it('pages newest first and filters by customer, subscription and status', async () => {
    const org = await freshOrg();
    const a = await openedDraft(org);
    const b = await openedDraft(org);
    const c = await openedDraft(org);
    await invoices.void(pool, { organizationId: org, invoiceId: b.invoiceId, actor: 'operator' });
    const seen: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await invoices.list(pool, { organizationId: org, pageSize: 2, ...(pageToken ? { pageToken } : {}) });
      seen.push(...page.invoices.map((i) => i.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([c.invoiceId, b.invoiceId, a.invoiceId]);
    expect((await invoices.list(pool, { organizationId: org, status: 'void' })).invoices.map((i) => i.id)).toEqual([b.invoiceId]);
    expect((await invoices.list(pool, { organizationId: org, customerId: a.customerId })).invoices.map((i) => i.id)).toEqual([a.invoiceId]);
    expect((await invoices.list(pool, { organizationId: org, subscriptionId: c.subscriptionId })).invoices.map((i) => i.id)).toEqual([c.invoiceId]);
    expect(await refusal(invoices.list(pool, { organizationId: org, status: 'open' }))).toMatchObject({ code: 'invalid_status', field: 'status' });
    expect(await refusal(invoices.list(pool, { organizationId: org, pageToken: 'nope' }))).toMatchObject({ code: 'invalid_page_token' });
  });
});

describe('what was billed for earlier periods', () => {
  it('sums finalized and paid lines per period and price, keeps the latest quantity, and skips void periods', async () => {
    const org = await freshOrg();
    const { subscriptionId } = await seedSubscription(pool, { organizationId: org, prices: PRICES, startAt: JAN });
    const open = async (periodStart: Date) => {
      const opened = await billingCycle.openPeriod(pool, { organizationId: org, subscriptionId, periodStart, ...settings });
      if (!opened) throw new Error('not opened');
      return opened.invoiceId;
    };
    const jan = await open(JAN);
    await finalized(org, jan, januaryLines('100', '1.00'));
    const feb = await open(FEB);
    // February's invoice carries an adjustment for January: 20 late calls.
    const febPeriod = { start: FEB, end: MAR };
    const withAdjustment = computationOf([
      ...januaryLines('300', '3.00', febPeriod).lines,
      {
        lineKey: `adjustment:${JAN.toISOString()}:api_calls`, kind: 'adjustment', description: 'API calls — late usage for 2026-01', priceKey: 'api_calls',
        meterSlug: 'api_calls', usagePeriodStart: JAN, usagePeriodEnd: FEB, quantity: '20', amount: '0.20', periodQuantity: '120',
      },
    ]);
    await finalized(org, feb, withAdjustment);
    const mar = await open(MAR);

    const billed = await invoices.billedForPeriod(pool, { organizationId: org, subscriptionId, before: new Date('2026-04-01T00:00:00Z'), since: new Date('2025-12-01T00:00:00Z') });
    expect(billed.periods).toEqual([
      { start: JAN, end: FEB, planVersionId: expect.any(String), prices: [{ priceKey: 'api_calls', amount: '1.20', periodQuantity: '120' }, { priceKey: 'platform', amount: '49.00' }] },
      { start: FEB, end: MAR, planVersionId: expect.any(String), prices: [{ priceKey: 'api_calls', amount: '3.00', periodQuantity: '300' }, { priceKey: 'platform', amount: '49.00' }] },
    ]);
    // The lookback and the period being billed bound it.
    const recent = await invoices.billedForPeriod(pool, { organizationId: org, subscriptionId, before: MAR, since: new Date('2026-02-15T00:00:00Z') });
    expect(recent.periods.map((p) => p.start)).toEqual([FEB]);

    // Voiding February's invoice: its period is no longer adjusted, and January's sums lose the adjustment.
    await invoices.void(pool, { organizationId: org, invoiceId: feb, actor: 'operator' });
    const after = await invoices.billedForPeriod(pool, { organizationId: org, subscriptionId, before: new Date('2026-04-01T00:00:00Z'), since: new Date('2025-12-01T00:00:00Z') });
    expect(after.periods.map((p) => [p.start, p.prices[0]])).toEqual([[JAN, { priceKey: 'api_calls', amount: '1.00', periodQuantity: '100' }]]);
    expect(after.basis).not.toBe(billed.basis);

    // A finalization computed on the old basis is refused, retryably.
    const claimer = await claimed(org, mar);
    expect(await refusal(invoices.finalize(pool, { organizationId: org, invoiceId: mar, claimer, actor: 'scheduler', computation: januaryLines('1', '0.01'), basis: billed.basis }))).toMatchObject({
      kind: 'unavailable',
      code: 'billing_changed',
    });
  });

  it('lists drafts past their grace for finalization', async () => {
    const org = await freshOrg();
    const { invoiceId } = await openedDraft(org);
    const due = await invoices.dueForFinalization(pool, { limit: 10_000 });
    expect(due).toContainEqual({ organizationId: org, invoiceId, finalizeAfter: new Date(FEB.getTime() + 3_600_000) });
  });
});
