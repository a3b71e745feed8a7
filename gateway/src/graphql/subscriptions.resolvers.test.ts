import { describe, expect, it } from 'vitest';
import { BillingAnchor } from '@polaris/proto';
import { batchGetCustomers } from '../test-support/billing-fixtures';
import { fakeSystem, ORG } from '../test-support/fake-backends';

const subscription = (id: string, customerId: string) => ({
  id,
  organizationId: ORG,
  customerId,
  customerExternalId: `ext-${customerId}`,
  status: 'active',
  billingAnchor: BillingAnchor.BILLING_ANCHOR_CALENDAR,
  startAt: new Date('2026-01-01T00:00:00Z'),
  timeZone: 'UTC',
  phases: [{ planVersionId: 'pv1', planKey: 'pro', planVersion: 1, startsAt: new Date('2026-01-01T00:00:00Z') }],
  currentPeriodStart: new Date('2026-02-01T00:00:00Z'),
  currentPeriodEnd: new Date('2026-03-01T00:00:00Z'),
  billedThrough: new Date('2026-02-01T00:00:00Z'),
  createdAt: new Date('2026-01-01T00:00:00Z'),
  updatedAt: new Date('2026-01-01T00:00:00Z'),
});

describe('subscriptions', () => {
  it('a page with each customer: one BatchGetCustomers for the distinct customers; enums and anchors translated', async () => {
    const page = Array.from({ length: 6 }, (_, i) => subscription(`s${i}`, `c${i % 2}`));
    const { post, calls, requests } = fakeSystem(['billing:read'], {
      'subscriptions.listSubscriptions': () => ({ subscriptions: page, nextPageToken: '' }),
      'customers.batchGetCustomers': batchGetCustomers(),
    });
    const res = await post('{ subscriptions(customerId: "c0", first: 10) { nodes { id status billingAnchor cancelAt phases { planKey planVersion } customer { id } } hasNextPage endCursor } }');
    expect(res.body.errors).toBeUndefined();
    const data = res.body.data?.subscriptions as { nodes: Array<Record<string, unknown>>; hasNextPage: boolean; endCursor: string | null };
    expect(data.nodes[0]).toEqual({ id: 's0', status: 'ACTIVE', billingAnchor: 'CALENDAR', cancelAt: null, phases: [{ planKey: 'pro', planVersion: 1 }], customer: { id: 'c0' } });
    expect({ hasNextPage: data.hasNextPage, endCursor: data.endCursor }).toEqual({ hasNextPage: false, endCursor: null });
    expect(calls.get('customers.batchGetCustomers')).toBe(1);
    expect(requests.get('customers.batchGetCustomers')?.[0]?.customerIds).toEqual(['c0', 'c1']);
    expect(calls.get('customers.getCustomer')).toBeUndefined();
    expect(requests.get('subscriptions.listSubscriptions')).toEqual([{ organizationId: ORG, customerId: 'c0', pageSize: 10, pageToken: '' }]);
  });

  it('a page size over the limit is refused naming first', async () => {
    const { post, calls } = fakeSystem(['billing:read'], {});
    const res = await post('{ subscriptions(first: 500) { nodes { id } } }');
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_page_size', field: 'first' });
    expect(calls.get('subscriptions.listSubscriptions')).toBeUndefined();
  });
});
