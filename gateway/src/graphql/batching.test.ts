import { describe, expect, it } from 'vitest';
import { BillingAnchor, MeterAggregation, PriceModel, type Meter } from '@polaris/proto';
import { batchGetCustomers, invoice } from '../test-support/billing-fixtures';
import { fakeSystem, ORG } from '../test-support/fake-backends';

// What one dashboard-like request costs the services behind the gateway: one call per type of
// thing looked up (customers, whole invoices, meters), whatever the number of rows on the page.

const meter = (slug: string): Meter => ({
  id: `m-${slug}`,
  organizationId: ORG,
  slug,
  name: slug,
  description: '',
  status: 'active',
  currentVersion: {
    meterVersionId: '1',
    version: 1,
    definition: { eventType: 'api.call', aggregation: MeterAggregation.METER_AGGREGATION_COUNT, valuePath: '', uniquePath: '', dimensions: [] },
    state: 'ready',
    segments: [],
    catalogRevision: '1',
  },
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const subscription = (id: string, customerId: string) => ({
  id,
  organizationId: ORG,
  customerId,
  customerExternalId: `ext-${customerId}`,
  status: 'active',
  billingAnchor: BillingAnchor.BILLING_ANCHOR_CALENDAR,
  startAt: new Date(0),
  timeZone: 'UTC',
  phases: [],
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const price = (key: string, meterSlug: string) => ({
  key, name: key, model: PriceModel.PRICE_MODEL_PER_UNIT, meterSlug, amount: '', unitPrice: '0.01', tiers: [], packageSize: '', packagePrice: '', freeQuota: '0',
});

/** A system whose lists hold `rows` rows each, naming 1 + rows/2 customers and 3 meters. */
function system(rows: number) {
  const invoices = Array.from({ length: rows }, (_, i) => invoice(`inv-${i}`, `cust-${i % (1 + rows / 2)}`, '1.00'));
  const subscriptions = Array.from({ length: rows }, (_, i) => subscription(`sub-${i}`, `cust-${i % 3}`));
  const plans = Array.from({ length: rows }, (_, i) => ({
    id: `p${i}`, organizationId: ORG, key: `plan-${i}`, name: 'Plan', description: '', status: 'active', createdAt: new Date(0), updatedAt: new Date(0),
    versions: [{ id: `pv${i}`, planId: `p${i}`, planKey: `plan-${i}`, version: 1, currency: 'USD', status: 'published', prices: [price('calls', 'api_calls'), price('jobs', `jobs_${i % 2}`)] }],
  }));
  return fakeSystem(['billing:read', 'usage:read'], {
    'invoices.listInvoices': () => ({ invoices, nextPageToken: '' }),
    'invoices.batchGetInvoices': (req) => ({ invoices: (req.invoiceIds as string[]).map((id) => invoice(id, 'cust-0', '1.00', true)) }),
    'subscriptions.listSubscriptions': () => ({ subscriptions, nextPageToken: '' }),
    'plans.listPlans': () => ({ plans, nextPageToken: '' }),
    'customers.batchGetCustomers': batchGetCustomers(),
    'meters.batchGetMeters': (req) => ({ meters: (req.slugs as string[]).map(meter) }),
  });
}

// 100 rows: a literal `first` multiplies the document's cost (GRAPHQL_MAX_COST), and 200 rows of
// customers, lines and meters is over the default.
const PAGE = `{
  invoicesConnection(first: 100) { nodes { id customer { externalId } lines { meter { slug } } } }
}`;

describe('batching: a page costs one call per type, not one per row', () => {
  it('100 invoices with their customers, lines and the lines’ meters: ListInvoices, BatchGetCustomers, BatchGetInvoices, BatchGetMeters, once each', async () => {
    const { post, calls, requests } = system(100);
    const res = await post(PAGE);
    expect(res.body.errors).toBeUndefined();
    const nodes = (res.body.data?.invoicesConnection as { nodes: Array<{ customer: { externalId: string }; lines: Array<{ meter: { slug: string } }> }> }).nodes;
    expect(nodes).toHaveLength(100);
    expect(nodes[0]?.lines[0]?.meter.slug).toBe('api_calls');
    expect(Object.fromEntries(calls)).toEqual({
      'identity.validateApiKey': 1,
      'invoices.listInvoices': 1,
      'customers.batchGetCustomers': 1,
      'invoices.batchGetInvoices': 1,
      'meters.batchGetMeters': 1,
    });
    expect(requests.get('customers.batchGetCustomers')?.[0]?.customerIds).toHaveLength(51);
    expect(requests.get('meters.batchGetMeters')?.[0]?.slugs).toEqual(['api_calls']);
  });

  it('the same request over 4 rows costs exactly as many calls as over 100', async () => {
    const small = system(4);
    const large = system(100);
    await small.post(PAGE);
    await large.post(PAGE);
    expect(Object.fromEntries(small.calls)).toEqual(Object.fromEntries(large.calls));
  });

  it('subscriptions with customers and plans with their prices’ meters, in one request: one batch call per type and list', async () => {
    const { post, calls, requests } = system(50);
    const res = await post(`{
      subscriptions(first: 50) { nodes { id customer { id } } }
      plans(first: 50) { nodes { key versions { prices { key meter { slug } } } } }
    }`);
    expect(res.body.errors).toBeUndefined();
    expect(calls.get('customers.batchGetCustomers')).toBe(1);
    expect(calls.get('meters.batchGetMeters')).toBe(1);
    expect(requests.get('meters.batchGetMeters')?.[0]?.slugs).toEqual(['api_calls', 'jobs_0', 'jobs_1']);
    expect(calls.get('customers.getCustomer')).toBeUndefined();
    expect(calls.get('meters.getMeter')).toBeUndefined();
  });

  it('a meter edge needs usage:read; an id the batch does not answer is NOT_FOUND for its row only', async () => {
    const billingOnly = fakeSystem(['billing:read'], {
      'invoices.listInvoices': () => ({ invoices: [invoice('inv-1', 'gone', '1.00'), invoice('inv-2', 'here', '1.00')], nextPageToken: '' }),
      'invoices.batchGetInvoices': (req) => ({ invoices: (req.invoiceIds as string[]).map((id) => invoice(id, 'here', '1.00', true)) }),
      'customers.batchGetCustomers': batchGetCustomers(['gone']),
    });
    const customers = await billingOnly.post('{ invoices { id customer { id } } }');
    expect(customers.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code, e.extensions?.reason])).toEqual([
      ['invoices.0.customer', 'NOT_FOUND', 'customer_not_found'],
    ]);
    const meters = await billingOnly.post('{ invoices { id lines { lineKey meter { slug } } } }');
    expect(meters.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([
      ['invoices.0.lines.0.meter', 'FORBIDDEN'],
      ['invoices.1.lines.0.meter', 'FORBIDDEN'],
    ]);
    expect(billingOnly.calls.get('meters.batchGetMeters')).toBeUndefined();
  });
});
