import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingCycle, customers, meters } from '@polaris/postgres';
import { CustomersClient, InvoicesClient, MeterAggregation, MetersClient } from '@polaris/proto';
import type { InvoiceRater } from '../rating/invoice-rater';
import { metersService } from '../meters/meters.grpc';
import { subscribedCustomer } from '../test-support/billing-catalog';
import { rejection, startBillingGrpc, type BillingGrpcHarness } from '../test-support/billing-grpc-harness';
import { customersService } from './customers.grpc';
import { invoicesService } from './invoices.grpc';

// The batch lookups the gateway's DataLoaders use (BatchGetCustomers, BatchGetInvoices,
// BatchGetMeters) over a real server and a PostgreSQL database of their own: one call answers a
// page of ids, of the caller's organization only, leaving out what it does not find.

let h: BillingGrpcHarness;
let customersClient: CustomersClient;
let invoicesClient: InvoicesClient;
let metersClient: MetersClient;
// The batch reads never rate: a rater that is never called.
const noRater = {} as InvoiceRater;
const JAN = new Date('2026-01-01T00:00:00Z');

beforeAll(async () => {
  h = await startBillingGrpc((pool, unary) => [customersService(pool, unary), invoicesService(pool, noRater, unary), metersService(pool, unary)]);
  customersClient = h.client(CustomersClient);
  invoicesClient = h.client(InvoicesClient);
  metersClient = h.client(MetersClient);
});
afterAll(async () => h?.stop());

const customer = (organizationId: string, externalId: string) => customers.create(h.db.pool, { organizationId, externalId, name: externalId, currency: 'USD' });

describe('BatchGetCustomers', () => {
  it("answers the organization's customers among the ids, each once; unknown ids and another organization's are left out", async () => {
    const [a1, a2, b1] = await Promise.all([customer(h.orgA, 'a1'), customer(h.orgA, 'a2'), customer(h.orgB, 'b1')]);
    const ids = [a1.id, a2.id, a1.id, b1.id, randomUUID(), 'not-a-uuid'];
    const res = await h.call(customersClient.batchGetCustomers.bind(customersClient), { organizationId: h.orgA, customerIds: ids }, h.orgA);
    expect(res.customers.map((c) => c.externalId).sort()).toEqual(['a1', 'a2']);
    expect(res.customers.every((c) => c.organizationId === h.orgA)).toBe(true);
  });

  it('no ids: an empty answer; more than 200 distinct ids: INVALID_ARGUMENT naming customer_ids', async () => {
    expect(await h.call(customersClient.batchGetCustomers.bind(customersClient), { organizationId: h.orgA, customerIds: [] }, h.orgA)).toEqual({ customers: [] });
    const many = Array.from({ length: 201 }, () => randomUUID());
    expect(await rejection(h.call(customersClient.batchGetCustomers.bind(customersClient), { organizationId: h.orgA, customerIds: many }, h.orgA))).toMatchObject({
      kind: 'invalid_argument',
      code: 'too_many_ids',
      field: 'customer_ids',
    });
  });

  it("acting for one organization and naming another's: refused before any lookup", async () => {
    expect(await h.outcome(CustomersClient, 'batchGetCustomers', { organizationId: h.orgB, customerIds: [] }, { actingFor: h.orgA })).toMatchObject({
      code: 'organization_mismatch',
    });
  });
});

describe('BatchGetInvoices', () => {
  /** A subscription of org A to a flat plan from January; its periods open with no settling or grace. */
  const flatSubscription = async () =>
    (
      await subscribedCustomer(h.db.pool, {
        organizationId: h.orgA,
        prices: [{ key: 'platform', name: 'Platform', model: 'FLAT', amount: '49' }],
        subjects: [],
        startAt: JAN,
      })
    ).subscription;
  const settings = { settleMs: 0, graceMs: 0, actor: 'rating-worker' };

  it('answers whole invoices (with their history) of the organization; unknown ids are left out', async () => {
    const subscription = await flatSubscription();
    const opened = await billingCycle.openPeriod(h.db.pool, { organizationId: h.orgA, subscriptionId: subscription.id, periodStart: JAN, ...settings });
    if (!opened) throw new Error('the period did not open');
    const res = await h.call(
      invoicesClient.batchGetInvoices.bind(invoicesClient),
      { organizationId: h.orgA, invoiceIds: [opened.invoiceId, randomUUID(), opened.invoiceId] },
      h.orgA,
    );
    expect(res.invoices.map((i) => i.id)).toEqual([opened.invoiceId]);
    expect(res.invoices[0]?.history.map((e) => e.action)).toContain('created');
    const other = await h.call(invoicesClient.batchGetInvoices.bind(invoicesClient), { organizationId: h.orgB, invoiceIds: [opened.invoiceId] }, h.orgB);
    expect(other.invoices).toEqual([]);
  });

  it('answers several invoices in one read each with its own lines and history, exactly as GetInvoice answers each', async () => {
    const subscription = await flatSubscription();
    const ids: string[] = [];
    for (const periodStart of [JAN, new Date('2026-02-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z')]) {
      const opened = await billingCycle.openPeriod(h.db.pool, { organizationId: h.orgA, subscriptionId: subscription.id, periodStart, ...settings });
      if (!opened) throw new Error('the period did not open');
      ids.push(opened.invoiceId);
    }
    const batch = await h.call(invoicesClient.batchGetInvoices.bind(invoicesClient), { organizationId: h.orgA, invoiceIds: [...ids].reverse() }, h.orgA);
    const one = await Promise.all(ids.map((id) => h.call(invoicesClient.getInvoice.bind(invoicesClient), { organizationId: h.orgA, invoiceId: id }, h.orgA)));
    const byId = new Map(batch.invoices.map((i) => [i.id, i]));
    expect(byId.size).toBe(3);
    for (const invoice of one) expect(byId.get(invoice.id)).toEqual(invoice);
  });
});

describe('BatchGetMeters', () => {
  it("answers the organization's meters among the slugs; unknown slugs and another organization's are left out", async () => {
    const definition = { eventType: 'api.call', aggregation: 'COUNT' as const, dimensions: [] };
    await meters.create(h.db.pool, { organizationId: h.orgA, slug: 'calls', name: 'Calls', description: '', definition });
    await meters.create(h.db.pool, { organizationId: h.orgA, slug: 'jobs', name: 'Jobs', description: '', definition });
    await meters.create(h.db.pool, { organizationId: h.orgB, slug: 'theirs', name: 'Theirs', description: '', definition });
    const res = await h.call(metersClient.batchGetMeters.bind(metersClient), { organizationId: h.orgA, slugs: ['calls', 'jobs', 'calls', 'theirs', 'nope', 'Not A Slug'] }, h.orgA);
    expect(res.meters.map((m) => m.slug).sort()).toEqual(['calls', 'jobs']);
    expect(res.meters[0]?.currentVersion?.definition?.aggregation).toBe(MeterAggregation.METER_AGGREGATION_COUNT);
  });
});
