import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { E2E_PORTS } from './support/ports';
import { freePort, startPrivate } from './support/private-services';
import { createTenant, type Tenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';
import { rowCount } from './support/stored-rows';

// Issue 13: usage reads had no bound. A Usage API whose read client allows 2 rows: a query
// answering 3 is refused, through gRPC and the gateway, as the caller's to narrow (400
// query_result_too_large), never as an internal error.

describe('a usage query over the read limits', () => {
  let system: RunningSystem | undefined;
  let url: string;
  let tenant: Tenant;
  const type = `e2e.read-limits.${Date.now()}`;
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();

  beforeAll(async () => {
    tenant = await createTenant();
    const events = ['a', 'b', 'c'].map((subject) => cloudEvent({ type, subject }));
    expect((await postEvents(tenant.apiKey, events, 'application/cloudevents-batch+json')).status).toBe(202);
    await eventually(async () => ((await rowCount(tenant.orgId)) === 3 ? true : undefined), 'the 3 events to be stored');

    const usagePort = await freePort();
    const httpPort = await freePort();
    url = `http://127.0.0.1:${httpPort}/graphql`;
    system = await startPrivate('usage-read-limits', [
      { name: 'sink-worker', opsPort: await freePort(), env: { CAPABILITIES: 'usage-api', GRPC_PORT: String(usagePort), CLICKHOUSE_READ_MAX_RESULT_ROWS: '2' } },
      {
        name: 'gateway',
        opsPort: await freePort(),
        env: {
          HTTP_PORT: String(httpPort),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          USAGE_GRPC_ADDR: `127.0.0.1:${usagePort}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
        },
      },
    ]);
  });
  afterAll(() => system?.stop());

  async function usage(groupBySubject: boolean) {
    const res = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(20_000),
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({
        query: 'query($type: String!, $from: DateTime!, $to: DateTime!, $g: Boolean) { usage(eventType: $type, from: $from, to: $to, groupBySubject: $g) { rows { subject eventCount } } }',
        variables: { type, from, to, g: groupBySubject },
      }),
    });
    return { status: res.status, ...((await res.json()) as { data?: { usage: { rows: Array<{ subject: string; eventCount: string }> } }; errors?: Array<{ message: string; extensions?: { code?: string } }> }) };
  }

  it('within the cap: answered', async () => {
    const res = await usage(false);
    expect(res.errors).toBeUndefined();
    expect(res.data?.usage.rows).toEqual([{ subject: '', eventCount: '3' }]);
  });

  it('3 rows against a cap of 2: 400 query_result_too_large, telling to narrow the query', async () => {
    const res = await usage(true);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('query_result_too_large');
    expect(res.errors?.[0]?.message).toMatch(/more than 2 rows.*narrow the query/);
  });
});
