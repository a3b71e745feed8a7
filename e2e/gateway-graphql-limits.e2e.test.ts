import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { E2E_PORTS } from './support/ports';
import { freePort, metric, startPrivate } from './support/private-services';
import { createTenant } from './support/tenants';

// Issue 13: one request with 1,000 aliases made 1,000 API key validations on a cache miss and
// 1,000 ClickHouse queries; 5,000 aliases saturated the gateway. A private gateway and a private
// Identity (rating-worker), so that Identity's call counter sees this test's requests alone.

const VALIDATE = { method: 'polaris.v1.Identity/ValidateApiKey' };
const GET_ORGANIZATION = { method: 'polaris.v1.Identity/GetOrganization' };
const COUNT = 'grpc_server_handled_seconds_count';

interface Answer {
  status: number;
  data?: Record<string, unknown>;
  errors?: Array<{ message: string; extensions?: { code?: string; limit?: string; max?: number } }>;
}

describe('the gateway limits what one request can ask of the services behind it', () => {
  let system: RunningSystem | undefined;
  let url: string;
  let identityOps: number;

  beforeAll(async () => {
    const identityPort = await freePort();
    identityOps = await freePort();
    const httpPort = await freePort();
    url = `http://127.0.0.1:${httpPort}/graphql`;
    system = await startPrivate('gateway-graphql-limits', [
      { name: 'rating-worker', opsPort: identityOps, env: { GRPC_PORT: String(identityPort) } },
      {
        name: 'gateway',
        opsPort: await freePort(),
        env: {
          HTTP_PORT: String(httpPort),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${identityPort}`,
          USAGE_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.usageGrpc}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
          // The default key cache: what single-flight adds is visible only with one.
          API_KEY_CACHE_TTL_MS: '30000',
        },
      },
    ]);
  });
  afterAll(() => system?.stop());

  async function post(apiKey: string, query: string): Promise<Answer> {
    const res = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(20_000),
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, ...((await res.json()) as Omit<Answer, 'status'>) };
  }
  const identityCalls = async () => ({ validate: await metric(identityOps, COUNT, VALIDATE), getOrganization: await metric(identityOps, COUNT, GET_ORGANIZATION) });
  const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
  const usage = 'usage(metric: "api_calls", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { total invalidCount }';

  it('1,000 aliased usage queries with a new key: 400 BAD_USER_INPUT naming the limit, no Identity call', async () => {
    const tenant = await createTenant();
    const before = await identityCalls();
    const res = await post(tenant.apiKey, aliases(1_000, usage));
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_TOKENS', max: 1_000 });
    expect(res.errors?.[0]?.message).toMatch(/GRAPHQL_MAX_TOKENS=1000/);
    expect(await identityCalls()).toEqual(before);
  });

  it('16 aliases: 400 naming GRAPHQL_MAX_ALIASES; 15 aliases: 200, with one key validation', async () => {
    const tenant = await createTenant();
    const before = await identityCalls();
    const over = await post(tenant.apiKey, aliases(16, 'me { id }'));
    expect(over.status).toBe(400);
    expect(over.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', limit: 'GRAPHQL_MAX_ALIASES', max: 15 })]);
    expect(await identityCalls()).toEqual(before);

    const within = await post(tenant.apiKey, aliases(15, 'me { id }'));
    expect(within.status).toBe(200);
    expect(Object.values(within.data ?? {})).toEqual(Array(15).fill({ id: tenant.orgId }));
    expect(await identityCalls()).toEqual({ validate: before.validate + 1, getOrganization: before.getOrganization + 15 });
  });

  it('50 concurrent requests with one new key: one key validation between them', async () => {
    const tenant = await createTenant();
    const before = await identityCalls();
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(tenant.apiKey, '{ me { id } }')));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect((await identityCalls()).validate).toBe(before.validate + 1);
  });
});
