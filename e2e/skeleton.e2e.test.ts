import { describe, expect, it } from 'vitest';
import { createTenant } from './support/tenants';
import { cloudEvent, eventually, graphql, postEvents } from './support/http';
import { tenantWithMeters, wholeMinutesAround, type MeterInput } from './support/meters';

const USAGE = /* GraphQL */ `
  query Usage($metric: String!, $from: DateTime!, $to: DateTime!) {
    usage(metric: $metric, from: $from, to: $to, groupBy: ["subject"]) {
      metric aggregation total invalidCount
      rows { subject value eventCount invalidCount windowStart windowEnd }
    }
  }
`;

type UsageData = {
  usage: {
    metric: string;
    aggregation: string;
    total: string;
    invalidCount: string;
    rows: Array<{ subject: string; value: string; eventCount: string; invalidCount: string; windowStart: string; windowEnd: string }>;
  };
};

/** The SUM of `tokens` of tokens.used events: what the skeleton meters. */
const TOKENS: MeterInput = { slug: 'tokens', name: 'Tokens', eventType: 'tokens.used', aggregation: 'SUM', valuePath: '$.tokens' };

describe('walking skeleton: one CloudEvent from HTTP to a GraphQL answer', () => {
  it('ingests over HTTP and answers the usage of a meter through the gateway', async () => {
    const tenant = await tenantWithMeters([TOKENS]);
    const { from, to } = wholeMinutesAround();
    const event = cloudEvent({ type: 'tokens.used', subject: 'acme', data: { tokens: 12.5 } });

    const accepted = await postEvents(tenant.apiKey, event);
    expect(accepted).toEqual({ status: 202, body: { accepted: 1 } });

    const usage = await eventually(async () => {
      const res = await graphql<UsageData>(tenant.apiKey, USAGE, { metric: 'tokens', from, to });
      expect(res.errors).toBeUndefined();
      return res.data?.usage.rows.length ? res.data.usage : undefined;
    }, 'the event to be queryable');
    expect(usage).toMatchObject({ metric: 'tokens', aggregation: 'SUM', total: '12.5', invalidCount: '0' });
    expect(usage.rows).toEqual([expect.objectContaining({ subject: 'acme', value: '12.5', eventCount: '1', invalidCount: '0', windowStart: from, windowEnd: to })]);
  });

  it('records usage through the gateway mutation (gateway → Ingest gRPC → broker) and reads it back', async () => {
    const tenant = await tenantWithMeters([TOKENS]);
    const { from, to } = wholeMinutesAround();
    const res = await graphql<{ recordEvent: { accepted: number } }>(
      tenant.apiKey,
      /* GraphQL */ `mutation Record($input: RecordEventInput!) { recordEvent(input: $input) { accepted } }`,
      { input: { id: 'order-1', type: 'tokens.used', subject: 'globex', data: { tokens: 3 } } },
    );
    expect(res).toMatchObject({ status: 200, data: { recordEvent: { accepted: 1 } } });

    const usage = await eventually(async () => {
      const r = await graphql<UsageData>(tenant.apiKey, USAGE, { metric: 'tokens', from, to });
      return r.data?.usage.rows.length ? r.data.usage : undefined;
    }, 'the recorded usage to be queryable');
    expect(usage.rows).toEqual([expect.objectContaining({ subject: 'globex', value: '3', eventCount: '1' })]);
  });

  it("answers the README's first query: `me` and this month's total of a meter, with the Bearer key", async () => {
    const tenant = await tenantWithMeters([{ slug: 'api_calls', name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' }]);
    expect((await postEvents(tenant.apiKey, [cloudEvent(), cloudEvent()], 'application/cloudevents-batch+json')).status).toBe(202);
    const query = 'query { me { id name } usage(metric: "api_calls") { metric total periodStart periodEnd } }';
    type Seeds = { me: { id: string; name: string }; usage: { metric: string; total: string; periodStart: string; periodEnd: string } };
    const answer = await eventually(async () => {
      const r = await graphql<Seeds>(tenant.apiKey, query);
      expect(r.errors).toBeUndefined();
      return r.data?.usage.total === '2' ? r.data : undefined;
    }, 'both API calls to count');
    expect(answer.me.id).toBe(tenant.orgId);
    // The current calendar month in UTC, by default.
    const start = new Date(answer.usage.periodStart);
    expect(start.getUTCDate()).toBe(1);
    expect(start.getTime() % 86_400_000).toBe(0);
    expect(new Date(answer.usage.periodEnd).getTime()).toBe(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  });

  it('answers `me` with the organization of the key', async () => {
    const tenant = await createTenant();
    const res = await graphql<{ me: { id: string } }>(tenant.apiKey, '{ me { id slug name createdAt } }');
    expect(res.data?.me.id).toBe(tenant.orgId);
  });
});
