import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { batchGetCustomers, invoice } from '../test-support/billing-fixtures';
import { fakeSystem, KEY_ID, ORG, Refusal } from '../test-support/fake-backends';

/** Twelve invoices of three customers, as ListInvoices answers them (no lines). */
const PAGE = Array.from({ length: 12 }, (_, i) => invoice(`inv-${i}`, `cust-${i % 3}`, `${i}.50`));

function billing(scopes = ['billing:read']) {
  return fakeSystem(scopes, {
    'invoices.listInvoices': () => ({ invoices: PAGE, nextPageToken: 'next-page' }),
    'invoices.getInvoice': (req) => {
      const found = PAGE.find((i) => i.id === req.invoiceId);
      if (!found || req.organizationId !== ORG) throw new Refusal(status.NOT_FOUND, 'invoice_not_found', `no invoice with id "${String(req.invoiceId)}" in this organization`, 'invoice_id');
      return invoice(found.id, found.customerId, found.total, true);
    },
    'invoices.finalizeInvoice': (req) => ({ ...invoice(String(req.invoiceId), 'cust-0', '1.00', true), status: 'finalized', number: 'INV-000001' }),
    'invoices.batchGetInvoices': (req) => ({
      invoices: PAGE.filter((i) => (req.invoiceIds as string[]).includes(i.id)).map((i) => invoice(i.id, i.customerId, i.total, true)),
    }),
    'customers.batchGetCustomers': batchGetCustomers(),
  });
}

describe('invoices: a page with nested customers and lines', () => {
  it('the seeds\' `invoices { id totalAmount status }` is one ListInvoices, with amounts as decimal text', async () => {
    const { post, calls } = billing();
    const res = await post('query { invoices { id totalAmount status } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.invoices).toEqual(PAGE.map((i) => ({ id: i.id, totalAmount: i.total, status: 'DRAFT' })));
    expect(Object.fromEntries(calls)).toEqual({ 'identity.validateApiKey': 1, 'invoices.listInvoices': 1 });
  });

  it('customers of a page: one BatchGetCustomers for the distinct customers (DataLoader), not one call per invoice', async () => {
    const { post, calls, requests } = billing();
    const res = await post('{ invoicesConnection(first: 12) { nodes { id customer { id externalId } } endCursor hasNextPage } }');
    expect(res.body.errors).toBeUndefined();
    const page = res.body.data?.invoicesConnection as { nodes: Array<{ customer: { id: string } }>; endCursor: string; hasNextPage: boolean };
    expect(page.nodes.map((n) => n.customer.id)).toEqual(PAGE.map((i) => i.customerId));
    expect({ endCursor: page.endCursor, hasNextPage: page.hasNextPage }).toEqual({ endCursor: 'next-page', hasNextPage: true });
    expect(calls.get('customers.batchGetCustomers')).toBe(1);
    expect(requests.get('customers.batchGetCustomers')?.[0]?.customerIds).toEqual(['cust-0', 'cust-1', 'cust-2']);
    // Lines were not selected: no invoice was fetched whole.
    expect(calls.get('invoices.getInvoice')).toBeUndefined();
    expect(calls.get('invoices.batchGetInvoices')).toBeUndefined();
  });

  it('lines and history of a listed invoice: fetched only when selected, in one BatchGetInvoices for the page even when both are', async () => {
    const { post, calls } = billing();
    const res = await post('{ invoices(first: 12) { id lines { lineKey kind amount quantity } history { action toStatus actor } } }');
    expect(res.body.errors).toBeUndefined();
    const [first] = res.body.data?.invoices as Array<{ lines: unknown[]; history: unknown[] }>;
    expect(first?.lines).toEqual([{ lineKey: 'calls', kind: 'USAGE', amount: '0.50', quantity: '1500' }]);
    expect(first?.history).toEqual([{ action: 'created', toStatus: 'DRAFT', actor: 'rating-worker' }]);
    expect(calls.get('invoices.batchGetInvoices')).toBe(1);
    expect(calls.get('invoices.getInvoice')).toBeUndefined();
  });

  it('invoice(id) of another organization (or none): NOT_FOUND with the reason and the argument, and no data', async () => {
    const { post } = billing();
    const res = await post('{ invoice(id: "not-ours") { id totalAmount } }');
    expect(res.status).toBe(404);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'invoice_not_found', field: 'id' });
  });
});

describe('invoice actions and scopes', () => {
  it('records the API key that asked as the actor: api-key:<key id>', async () => {
    const { post, requests } = billing(['billing:write']);
    const res = await post('mutation { finalizeInvoice(id: "inv-1") { status number } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.finalizeInvoice).toEqual({ status: 'FINALIZED', number: 'INV-000001' });
    expect(requests.get('invoices.finalizeInvoice')).toEqual([{ organizationId: ORG, invoiceId: 'inv-1', actor: `api-key:${KEY_ID}` }]);
  });

  it('reads take billing:read or billing:write; writes billing:write; anything else is FORBIDDEN before any billing call', async () => {
    for (const [scopes, query, expected] of [
      [['billing:write'], '{ invoices { id } }', 'ok'],
      [['usage:read', 'events:write', 'meters:write', 'admin'], '{ invoices { id } }', 'FORBIDDEN'],
      [['billing:read'], 'mutation { finalizeInvoice(id: "inv-1") { id } }', 'FORBIDDEN'],
    ] as const) {
      const { post, calls } = billing([...scopes]);
      const res = await post(query);
      const outcome = res.body.errors?.[0]?.extensions?.code ?? 'ok';
      expect(outcome, `${scopes.join(',')}: ${query}`).toBe(expected);
      if (expected === 'FORBIDDEN') {
        expect(res.status).toBe(403);
        expect(res.body.errors?.[0]?.extensions?.reason).toBe('missing_scope');
        expect([...calls.keys()]).toEqual(['identity.validateApiKey']);
      }
    }
  });
});
