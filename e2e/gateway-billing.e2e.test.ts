import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBillingSystem, type BillingSystem } from './support/billing-system';
import { eventually } from './support/http';
import { createMeter, waitForBackfill } from './support/meters';
import { metric } from './support/private-services';
import type { Tenant } from './support/tenants';

/**
 * Billing through the public GraphQL API (README "GraphQL API"), on a Polaris of its own
 * (support/billing-system.ts, with a gateway) whose rating-worker scans every second: a customer,
 * a plan and a subscription made over GraphQL, the invoice the rating-worker drafts for the closed
 * period, finalized and paid over GraphQL; the seeds' two examples exactly as written, with
 * X-API-Key; another organization asking for the first one's ids; keys without billing scopes;
 * and what a page of invoices with their customers costs the Customers service.
 */

const ALL_SCOPES = ['events:write', 'usage:read', 'meters:write', 'billing:read', 'billing:write'] as const;
const SEED_QUERY = 'query { me { id name } usage(metric: "api_calls") { metric total periodStart periodEnd } invoices { id totalAmount status } }';
const SEED_MUTATION = 'mutation { recordUsage(metric: "api_calls", quantity: 10) }';

interface Answer<T> {
  status: number;
  text: string;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string; field?: string } }>;
}

const now = new Date();
const monthStart = (back: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));

describe('gateway: billing over GraphQL, and the seeds’ examples', () => {
  let system: BillingSystem;
  let a: Tenant;
  let b: Tenant;
  /** A request as the seeds send it: the key in X-API-Key. */
  let gql: <T>(tenant: Tenant, query: string, variables?: Record<string, unknown>) => Promise<Answer<T>>;
  /** The data of a request that must succeed. */
  let ok: <T>(tenant: Tenant, query: string, variables?: Record<string, unknown>) => Promise<T>;
  const ids = { acme: '', beta: '', subscription: '', invoice: '' };

  beforeAll(async () => {
    system = await startBillingSystem({ label: 'gateway-billing', invoiceGraceMs: 3_600_000, gateway: true });
    const url = system.gatewayUrl ?? '';
    gql = async (tenant, query, variables = {}) => {
      const res = await fetch(url, {
        method: 'POST',
        signal: AbortSignal.timeout(20_000),
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': tenant.apiKey },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      return { status: res.status, text, ...(JSON.parse(text) as object) };
    };
    ok = async <T>(tenant: Tenant, query: string, variables: Record<string, unknown> = {}) => {
      const res = await gql<T>(tenant, query, variables);
      if (res.errors?.length || !res.data) throw new Error(`${query} failed (HTTP ${res.status}): ${res.text}`);
      return res.data;
    };
    [a, b] = await Promise.all([system.createTenant([...ALL_SCOPES]), system.createTenant([...ALL_SCOPES])]);
    await createMeter(url, a.apiKey, { slug: 'api_calls', name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' });
    await createMeter(url, a.apiKey, { slug: 'tokens', name: 'Tokens', eventType: 'llm.tokens', aggregation: 'SUM', valuePath: '$.tokens' });
    await waitForBackfill(url, a.apiKey, 'api_calls');
    await waitForBackfill(url, a.apiKey, 'tokens');
  });
  afterAll(() => system?.stop());

  it('the seeds’ mutation and query, exactly as written, with X-API-Key', async () => {
    expect(await gql(a, SEED_MUTATION)).toMatchObject({ status: 200, data: { recordUsage: true } });
    type Seed = { me: { id: string; name: string }; usage: { metric: string; total: string; periodStart: string; periodEnd: string }; invoices: unknown[] };
    const seed = await eventually(async () => {
      const res = await ok<Seed>(a, SEED_QUERY);
      return res.usage.total === '10' ? res : undefined;
    }, 'the ten api_calls to be counted');
    expect(seed.me.id).toBe(a.orgId);
    expect(seed.usage).toEqual({ metric: 'api_calls', total: '10', periodStart: monthStart(0).toISOString(), periodEnd: monthStart(-1).toISOString() });
    expect(seed.invoices).toEqual([]);

    // A SUM meter gets the quantity at its value path as exact text: no float on the way.
    const exact = '12345678901234567.891';
    expect(await ok(a, `mutation { recordUsage(metric: "tokens", quantity: "${exact}", subject: "s") }`)).toEqual({ recordUsage: true });
    await eventually(async () => ((await ok<Seed>(a, '{ usage(metric: "tokens") { total } }')).usage.total === exact ? true : undefined), 'the exact quantity to be summed');

    // An unknown metric: usage answers NOT_FOUND, recordUsage refuses it as bad input.
    const unknownUsage = await gql(a, '{ usage(metric: "no_such_meter") { total } }');
    expect(unknownUsage.status).toBe(404);
    expect(unknownUsage.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'meter_not_found', field: 'metric' });
    const unknownRecord = await gql(a, 'mutation { recordUsage(metric: "no_such_meter", quantity: 10) }');
    expect(unknownRecord.status).toBe(400);
    expect(unknownRecord.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'meter_not_found', field: 'metric' });
  });

  it('a customer, a plan and a subscription made over GraphQL; the invoice the rating-worker drafts; finalized and paid', async () => {
    const lastMonth = { from: monthStart(1).toISOString(), to: monthStart(0).toISOString() };
    // Last month's usage, stored before the subscription is made, so its first invoice bills all of it.
    await ok(a, `mutation { recordUsage(metric: "api_calls", quantity: 25, subject: "acme-app", id: "acme-jan", time: "${new Date(Date.parse(lastMonth.from) + 86_400_000).toISOString()}") }`);
    await eventually(
      async () => ((await ok<{ usage: { total: string } }>(a, `{ usage(metric: "api_calls", from: "${lastMonth.from}", to: "${lastMonth.to}") { total } }`)).usage.total === '25' ? true : undefined),
      'last month’s usage to be stored',
    );

    type Customer = { createCustomer: { id: string; externalId: string; subjects: string[]; status: string } };
    const acme = (await ok<Customer>(a, 'mutation { createCustomer(input: { externalId: "acme", name: "Acme", currency: "USD", subjects: ["acme-app"] }) { id externalId subjects status } }')).createCustomer;
    expect(acme).toMatchObject({ externalId: 'acme', subjects: ['acme-app'], status: 'ACTIVE' });
    ids.acme = acme.id;
    ids.beta = (await ok<Customer>(a, 'mutation { createCustomer(input: { externalId: "beta", name: "Beta", currency: "USD", subjects: ["beta-app"] }) { id } }')).createCustomer.id;

    const prices = '[{ key: "base", model: FLAT, amount: "10" }, { key: "calls", name: "API calls", model: PER_UNIT, meterSlug: "api_calls", unitPrice: "0.5" }]';
    await ok(a, `mutation { createPlan(input: { key: "starter", name: "Starter", currency: "USD", prices: ${prices} }) { id } }`);
    expect(await ok(a, 'mutation { publishPlanVersion(planKey: "starter", version: 1) { version status } }')).toEqual({ publishPlanVersion: { version: 1, status: 'PUBLISHED' } });
    const plan = await ok<{ plan: { versions: Array<{ prices: unknown[] }> } }>(a, '{ plan(key: "starter") { versions { version status currency prices { key model amount unitPrice meterSlug } } } }');
    expect(plan.plan.versions).toEqual([
      {
        version: 1,
        status: 'PUBLISHED',
        currency: 'USD',
        prices: [
          { key: 'base', model: 'FLAT', amount: '10', unitPrice: null, meterSlug: null },
          { key: 'calls', model: 'PER_UNIT', amount: null, unitPrice: '0.5', meterSlug: 'api_calls' },
        ],
      },
    ]);

    type Sub = { createSubscription: { id: string; status: string; customer: { externalId: string }; phases: Array<{ planKey: string }> } };
    const sub = (await ok<Sub>(a, `mutation { createSubscription(input: { externalId: "acme", planKey: "starter", startAt: "${lastMonth.from}" }) { id status customer { externalId } phases { planKey } } }`)).createSubscription;
    expect(sub).toMatchObject({ status: 'ACTIVE', customer: { externalId: 'acme' }, phases: [{ planKey: 'starter' }] });
    ids.subscription = sub.id;
    // Beta's three closed months make three more invoices (one period per scan).
    await ok(a, `mutation { createSubscription(input: { customerId: "${ids.beta}", planKey: "starter", startAt: "${monthStart(3).toISOString()}" }) { id } }`);

    type Listed = { invoices: Array<{ id: string; totalAmount: string | null; status: string; periodStart: string }> };
    const [drafted] = await eventually(async () => {
      const { invoices } = await ok<Listed>(a, `{ invoices(customerId: "${acme.id}") { id totalAmount status periodStart } }`);
      return invoices[0]?.totalAmount ? invoices : undefined;
    }, 'the rating-worker to draft and compute acme’s invoice');
    expect(drafted).toMatchObject({ totalAmount: '22.50', status: 'DRAFT', periodStart: lastMonth.from });
    ids.invoice = drafted?.id ?? '';

    type Full = { invoice: { customer: { externalId: string }; lines: Array<Record<string, unknown>>; history: Array<{ action: string; actor: string }> } };
    const full = (await ok<Full>(a, `{ invoice(id: "${ids.invoice}") { customer { externalId } lines { priceKey kind quantity amount } history { action toStatus actor } } }`)).invoice;
    expect(full.customer.externalId).toBe('acme');
    expect(full.lines).toEqual([
      { priceKey: 'base', kind: 'FLAT', quantity: '1', amount: '10.00' },
      { priceKey: 'calls', kind: 'USAGE', quantity: '25', amount: '12.50' },
    ]);

    const finalized = await ok<{ finalizeInvoice: { status: string; number: string; history: Array<{ action: string; actor: string }> } }>(
      a,
      `mutation { finalizeInvoice(id: "${ids.invoice}") { status number totalAmount history { action actor } } }`,
    );
    expect(finalized.finalizeInvoice).toMatchObject({ status: 'FINALIZED', number: 'INV-000001', totalAmount: '22.50' });
    expect(finalized.finalizeInvoice.history.at(-1)).toEqual({ action: 'finalized', actor: expect.stringMatching(/^api-key:[0-9a-f-]{36}$/) });
    expect(await ok(a, `mutation { markInvoicePaid(id: "${ids.invoice}") { status } }`)).toEqual({ markInvoicePaid: { status: 'PAID' } });
    const paidTwice = await gql(a, `mutation { markInvoicePaid(id: "${ids.invoice}") { status } }`);
    expect(paidTwice.status).toBe(409);
    expect(paidTwice.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_invoice_transition', field: 'id' });

    // The current period so far: the flat fee, no usage yet.
    const upcoming = await ok<{ upcomingInvoice: { totalAmount: string; periodStart: string; customer: { id: string } } }>(a, '{ upcomingInvoice(externalId: "acme") { totalAmount periodStart customer { id } } }');
    expect(upcoming.upcomingInvoice).toEqual({ totalAmount: '10.00', periodStart: monthStart(0).toISOString(), customer: { id: acme.id } });

    // The seeds' query now lists the invoice with its total.
    const seed = await ok<{ invoices: unknown[] }>(a, SEED_QUERY);
    expect(seed.invoices).toContainEqual({ id: ids.invoice, totalAmount: '22.50', status: 'PAID' });
  });

  it('a page of invoices with their customers, lines and meters: one call per type (BatchGet…), never one per row', async () => {
    const page = '{ invoicesConnection(first: 50) { nodes { id customer { externalId } } } }';
    type Page = { invoicesConnection: { nodes: Array<{ id: string; customer: { externalId: string } }> } };
    const nodes = await eventually(async () => {
      const { invoicesConnection } = await ok<Page>(a, page);
      return invoicesConnection.nodes.length === 4 ? invoicesConnection.nodes : undefined;
    }, 'beta’s three periods to be invoiced');
    expect(nodes.map((n) => n.customer.externalId).sort()).toEqual(['acme', 'beta', 'beta', 'beta']);

    const ops = system.ratingOpsPorts[0] ?? 0;
    const methods = {
      getCustomer: 'Customers/GetCustomer',
      batchGetCustomers: 'Customers/BatchGetCustomers',
      listInvoices: 'Invoices/ListInvoices',
      getInvoice: 'Invoices/GetInvoice',
      batchGetInvoices: 'Invoices/BatchGetInvoices',
      getMeter: 'Meters/GetMeter',
      batchGetMeters: 'Meters/BatchGetMeters',
    };
    const calls = async () => {
      const counts: Record<string, number> = {};
      for (const [name, method] of Object.entries(methods)) counts[name] = await metric(ops, 'grpc_server_handled_seconds_count', { method: `polaris.v1.${method}` });
      return counts;
    };
    const cost = async (query: string) => {
      const before = await calls();
      await ok(a, query);
      const after = await calls();
      return Object.fromEntries(Object.keys(methods).map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]).filter(([, n]) => n !== 0));
    };
    expect(await cost(page)).toEqual({ listInvoices: 1, batchGetCustomers: 1 });
    // Lines only when selected: then one BatchGetInvoices for the page, and one BatchGetMeters for the lines' meters.
    expect(await cost('{ invoicesConnection(first: 50) { nodes { id customer { name } lines { amount meter { slug } } history { action } } } }')).toEqual({
      listInvoices: 1,
      batchGetCustomers: 1,
      batchGetInvoices: 1,
      batchGetMeters: 1,
    });
  });

  it("another organization asking for the first one's ids and keys: NOT_FOUND or empty, and none of its data", async () => {
    const asB = (query: string) => gql(b, query);
    const secrets = [a.orgId, 'Acme', '22.50', 'acme-app'];
    const notFound = [
      [`{ customer(id: "${ids.acme}") { id name } }`, 'customer_not_found', 'id'],
      ['{ customer(externalId: "acme") { id name } }', 'customer_not_found', 'externalId'],
      [`{ invoice(id: "${ids.invoice}") { id totalAmount } }`, 'invoice_not_found', 'id'],
      [`{ subscription(id: "${ids.subscription}") { id } }`, 'subscription_not_found', 'id'],
      ['{ plan(key: "starter") { id } }', 'plan_not_found', 'key'],
      [`{ upcomingInvoice(customerId: "${ids.acme}") { totalAmount } }`, 'customer_not_found', 'customerId'],
      [`mutation { voidInvoice(id: "${ids.invoice}") { status } }`, 'invoice_not_found', 'id'],
      [`mutation { archiveCustomer(id: "${ids.acme}") { status } }`, 'customer_not_found', 'id'],
      [`mutation { cancelSubscription(id: "${ids.subscription}") { status } }`, 'subscription_not_found', 'id'],
      [`mutation { addCustomerSubjects(id: "${ids.acme}", subjects: ["x"]) { id } }`, 'customer_not_found', 'id'],
      [`{ subscriptions(customerId: "${ids.acme}") { nodes { id } } }`, 'customer_not_found', 'customerId'],
    ] as const;
    for (const [query, reason, field] of notFound) {
      const res = await asB(query);
      expect(res.status, query).toBe(404);
      expect(res.data ?? null, query).toBeNull();
      expect(res.errors?.[0]?.extensions, query).toMatchObject({ code: 'NOT_FOUND', reason, field });
      for (const secret of secrets) expect(res.text, `${query} leaks ${secret}`).not.toContain(secret);
    }
    const lists = await ok<Record<string, unknown>>(
      b,
      `{ customers { nodes { id } } invoices(customerId: "${ids.acme}") { id } subscriptions { nodes { id } } plans { nodes { id } } }`,
    );
    expect(lists).toEqual({ customers: { nodes: [] }, invoices: [], subscriptions: { nodes: [] }, plans: { nodes: [] } });
    // Nothing B asked changed A's records.
    expect((await ok<{ invoice: { status: string } }>(a, `{ invoice(id: "${ids.invoice}") { status } }`)).invoice.status).toBe('PAID');
  });

  it('keys without billing scopes are FORBIDDEN; billing:read reads but does not write', async () => {
    const usageOnly = await system.createTenant(['events:write', 'usage:read', 'meters:write']);
    for (const query of ['{ invoices { id } }', '{ customers { nodes { id } } }', 'mutation { createCustomer(input: { externalId: "x", name: "X", currency: "USD" }) { id } }']) {
      const res = await gql(usageOnly, query);
      expect(res.status, query).toBe(403);
      expect(res.errors?.[0]?.extensions, query).toMatchObject({ code: 'FORBIDDEN', reason: 'missing_scope' });
    }
    const reader = await system.createTenant(['billing:read']);
    expect(await ok(reader, '{ invoices { id } customers { nodes { id } } }')).toEqual({ invoices: [], customers: { nodes: [] } });
    const write = await gql(reader, 'mutation { createCustomer(input: { externalId: "x", name: "X", currency: "USD" }) { id } }');
    expect(write.status).toBe(403);
    expect(write.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'missing_scope' });
  });
});
