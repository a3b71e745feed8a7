import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { E2E_PORTS } from './support/ports';
import { freePort, startPrivate } from './support/private-services';
import type { Tenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';
import { tenantWithMeters, wholeMinutesAround } from './support/meters';
import { rowCount } from './support/stored-rows';

// Issue 13: usage reads had no bound. A Usage API whose read client allows 2 rows: a query
// answering 3 is refused, through gRPC and the gateway, as the caller's to narrow (400
// query_result_too_large), never as an internal error.

describe('a usage query over the read limits', () => {
  let system: RunningSystem | undefined;
  let url: string;
  let tenant: Tenant;
  const type = `e2e.read-limits.${Date.now()}`;
  const metric = 'read_limits';
  const { from, to } = wholeMinutesAround();

  beforeAll(async () => {
    tenant = await tenantWithMeters([{ slug: metric, name: 'Read limits', eventType: type, aggregation: 'COUNT' }]);
    const events = ['a', 'b', 'c'].map((subject) => cloudEvent({ type, subject }));
    expect((await postEvents(tenant.apiKey, events, 'application/cloudevents-batch+json')).status).toBe(202);
    // Stored with their meter values in the same insert: once stored, the rollups hold them too.
    await eventually(async () => ((await rowCount(tenant.orgId)) === 3 ? true : undefined), 'the 3 events to be stored');

    const usagePort = await freePort();
    const httpPort = await freePort();
    url = `http://127.0.0.1:${httpPort}/graphql`;
    system = await startPrivate('usage-read-limits', [
      {
        name: 'sink-worker',
        opsPort: await freePort(),
        env: {
          CAPABILITIES: 'usage-api',
          GRPC_PORT: String(usagePort),
          CLICKHOUSE_READ_MAX_RESULT_ROWS: '2',
          // The suite's meters: this Usage API looks the meter up there.
          METERS_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
        },
      },
      {
        name: 'gateway',
        opsPort: await freePort(),
        env: {
          HTTP_PORT: String(httpPort),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          USAGE_GRPC_ADDR: `127.0.0.1:${usagePort}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
          METERS_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
        },
      },
    ]);
  });
  afterAll(() => system?.stop());

  async function usage(groupBy: string[]) {
    const res = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(20_000),
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({
        query: 'query($metric: String!, $from: DateTime!, $to: DateTime!, $groupBy: [String!]) { usage(metric: $metric, from: $from, to: $to, groupBy: $groupBy) { rows { subject eventCount } } }',
        variables: { metric, from, to, groupBy },
      }),
    });
    return { status: res.status, ...((await res.json()) as { data?: { usage: { rows: Array<{ subject: string | null; eventCount: string }> } }; errors?: Array<{ message: string; extensions?: { code?: string; reason?: string } }> }) };
  }

  it('within the cap: answered', async () => {
    const res = await usage([]);
    expect(res.errors).toBeUndefined();
    expect(res.data?.usage.rows).toEqual([{ subject: null, eventCount: '3' }]);
  });

  it('3 rows against a cap of 2: 400 query_result_too_large, telling to narrow the query', async () => {
    const res = await usage(['subject']);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'query_result_too_large' });
    expect(res.errors?.[0]?.message).toMatch(/more than 2 rows.*narrow the query/);
  });
});
