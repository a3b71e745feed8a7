import { describe, expect, it } from 'vitest';
import { createTenant } from './support/tenants';
import { cloudEvent, eventually, graphql, postEvents } from './support/http';

const USAGE = /* GraphQL */ `
  query Usage($type: String!, $from: DateTime!, $to: DateTime!) {
    usage(eventType: $type, from: $from, to: $to, aggregation: SUM, valueProperty: "tokens", groupBySubject: true) {
      rows { subject value eventCount windowStart windowEnd }
      invalidValueCount
    }
  }
`;

type UsageData = { usage: { rows: Array<{ subject: string; value: string; eventCount: string }>; invalidValueCount: string } };

describe('walking skeleton: one CloudEvent from HTTP to a GraphQL answer', () => {
  it('ingests over HTTP and answers the usage query through the gateway', async () => {
    const tenant = await createTenant();
    const from = new Date(Date.now() - 60_000).toISOString();
    const event = cloudEvent({ type: 'tokens.used', subject: 'acme', data: { tokens: 12.5 } });

    const accepted = await postEvents(tenant.apiKey, event);
    expect(accepted).toEqual({ status: 202, body: { accepted: 1 } });

    const to = new Date(Date.now() + 60_000).toISOString();
    const usage = await eventually(async () => {
      const res = await graphql<UsageData>(tenant.apiKey, USAGE, { type: 'tokens.used', from, to });
      expect(res.errors).toBeUndefined();
      return res.data?.usage.rows.length ? res.data.usage : undefined;
    }, 'the event to be queryable');
    expect(usage.rows).toEqual([expect.objectContaining({ subject: 'acme', value: '12.5', eventCount: '1' })]);
    expect(usage.invalidValueCount).toBe('0');
  });

  it('records usage through the gateway mutation (gateway → Ingest gRPC → broker) and reads it back', async () => {
    const tenant = await createTenant();
    const from = new Date(Date.now() - 60_000).toISOString();
    const res = await graphql<{ recordUsage: { accepted: number } }>(
      tenant.apiKey,
      /* GraphQL */ `mutation Record($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }`,
      { input: { id: 'order-1', type: 'tokens.used', subject: 'globex', data: { tokens: 3 } } },
    );
    expect(res).toMatchObject({ status: 200, data: { recordUsage: { accepted: 1 } } });

    const to = new Date(Date.now() + 60_000).toISOString();
    const usage = await eventually(async () => {
      const r = await graphql<UsageData>(tenant.apiKey, USAGE, { type: 'tokens.used', from, to });
      return r.data?.usage.rows.length ? r.data.usage : undefined;
    }, 'the recorded usage to be queryable');
    expect(usage.rows).toEqual([expect.objectContaining({ subject: 'globex', value: '3', eventCount: '1' })]);
  });

  it('answers `me` with the organization of the key', async () => {
    const tenant = await createTenant();
    const res = await graphql<{ me: { id: string } }>(tenant.apiKey, '{ me { id slug name createdAt } }');
    expect(res.data?.me.id).toBe(tenant.orgId);
  });
});
