import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Price } from '@polaris/shared/billing';
import { organizations } from '../identity/organizations.repository';
import { meters } from '../meters/meters.repository';
import type { Pool } from '../pool';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { billingCycle } from './billing-cycle.repository';
import { customers } from './customers.repository';
import { invoices } from './invoices.repository';
import { computationOf, seedSubscription } from './invoices.fixtures';

// The set-based reads behind the batch RPCs (customers, invoices, meters .getMany) over a real
// PostgreSQL: each answers exactly what `get` answers for every id found, in one read per table,
// and leaves out what is not the organization's.

let db: ThrowawayPostgres;
let pool: Pool;

beforeAll(async () => {
  db = await throwawayPostgres();
  pool = db.pool;
});
afterAll(async () => db?.drop());

const freshOrg = async () => (await organizations.create(pool, { name: 'Batch', slug: `batch-${randomBytes(4).toString('hex')}` })).id;

const PRICES: Price[] = [
  { key: 'platform', name: 'Platform', model: 'FLAT', amount: '49', freeQuota: '0' },
  { key: 'api_calls', name: 'API calls', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.01', freeQuota: '0' },
];
const MONTHS = [new Date('2026-01-01T00:00:00Z'), new Date('2026-02-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z')];
const settings = { settleMs: 0, graceMs: 3_600_000, actor: 'scheduler' };

/** Three invoices of one subscription: two finalized with their own lines (and so a longer history), one draft. */
async function threeInvoices(organizationId: string): Promise<string[]> {
  const { subscriptionId } = await seedSubscription(pool, { organizationId, prices: PRICES, startAt: MONTHS[0] ?? new Date(0), subjects: [] });
  const ids: string[] = [];
  for (const [i, start] of MONTHS.entries()) {
    const opened = await billingCycle.openPeriod(pool, { organizationId, subscriptionId, periodStart: start, ...settings });
    if (!opened) throw new Error('the period did not open');
    ids.push(opened.invoiceId);
    if (i === MONTHS.length - 1) break;
    const end = MONTHS[i + 1] ?? start;
    const claimer = `finalizer-${opened.invoiceId}`;
    const outcome = await invoices.claim(pool, { organizationId, invoiceId: opened.invoiceId, claimer, ttlMs: 60_000 });
    if (!('claimed' in outcome)) throw new Error(`claim refused: ${outcome.refused}`);
    const { basis } = await invoices.billedForPeriod(pool, { organizationId, subscriptionId, before: new Date(0), since: new Date(0) });
    const calls = String(100 * (i + 1));
    const computation = computationOf([
      { lineKey: 'platform', kind: 'flat', description: 'Platform', priceKey: 'platform', usagePeriodStart: start, usagePeriodEnd: end, quantity: '1', amount: '49.00' },
      {
        lineKey: 'api_calls', kind: 'usage', description: 'API calls', priceKey: 'api_calls', meterSlug: 'api_calls', meterVersionId: '7',
        usagePeriodStart: start, usagePeriodEnd: end, quantity: calls, billableQuantity: calls, unitPrice: '0.01', amount: `${i + 1}.00`, periodQuantity: calls,
      },
    ]);
    await invoices.finalize(pool, { organizationId, invoiceId: opened.invoiceId, claimer, actor: 'scheduler', computation, basis });
  }
  return ids;
}

describe('invoices.getMany', () => {
  it('answers each invoice as get does (its own lines by position, its own history); unknown, malformed and other organizations\' ids are left out', async () => {
    const [org, other] = await Promise.all([freshOrg(), freshOrg()]);
    const ids = await threeInvoices(org);
    const [theirs] = await threeInvoices(other);
    const found = await invoices.getMany(pool, { organizationId: org, invoiceIds: [...ids, ids[0] ?? '', theirs ?? '', randomUUID(), 'not-a-uuid'] });
    const byId = new Map(found.map((invoice) => [invoice.id, invoice]));
    expect([...byId.keys()].sort()).toEqual([...ids].sort());
    expect(found).toHaveLength(3);
    for (const id of ids) expect(byId.get(id)).toEqual(await invoices.get(pool, { organizationId: org, invoiceId: id }));
    expect(byId.get(ids[1] ?? '')?.lines.map((l) => [l.position, l.quantity])).toEqual([
      [0, '1'],
      [1, '200'],
    ]);
    expect(await invoices.getMany(pool, { organizationId: org, invoiceIds: [] })).toEqual([]);
  });
});

describe('customers.getMany and meters.getMany', () => {
  it('answer what get answers for each id or slug found, leaving out the rest', async () => {
    const [org, other] = await Promise.all([freshOrg(), freshOrg()]);
    const made = await Promise.all(['a', 'b'].map((externalId) => customers.create(pool, { organizationId: org, externalId, name: externalId, currency: 'USD', subjects: [`${externalId}-1`] })));
    const theirs = await customers.create(pool, { organizationId: other, externalId: 'a', name: 'a', currency: 'USD' });
    const found = await customers.getMany(pool, { organizationId: org, customerIds: [...made.map((c) => c.id), theirs.id, randomUUID(), 'nope'] });
    expect(found.sort((x, y) => x.externalId.localeCompare(y.externalId))).toEqual(made);

    const definition = { eventType: 'api.call', aggregation: 'COUNT' as const, dimensions: [] };
    for (const slug of ['calls', 'jobs']) await meters.create(pool, { organizationId: org, slug, name: slug, description: '', definition });
    await meters.create(pool, { organizationId: other, slug: 'theirs', name: 'theirs', description: '', definition });
    const shown = await meters.getMany(pool, { organizationId: org, slugs: ['jobs', 'calls', 'calls', 'theirs', 'missing', 'Not A Slug'] });
    const bySlug = new Map(shown.map((m) => [m.slug, m]));
    expect([...bySlug.keys()].sort()).toEqual(['calls', 'jobs']);
    expect(shown).toHaveLength(2);
    for (const slug of ['calls', 'jobs']) expect(bySlug.get(slug)).toEqual(await meters.get(pool, { organizationId: org, slug }));
  });
});
