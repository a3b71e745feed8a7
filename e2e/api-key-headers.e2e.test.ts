import { beforeAll, describe, expect, it } from 'vitest';
import { cloudEvent } from './support/http';
import { collectorUrl, gatewayUrl } from './support/ports';
import { createTenant, type Tenant } from './support/tenants';

/**
 * README, "Send usage": both public doors take the API key as `Authorization: Bearer <key>` or
 * `X-API-Key: <key>`, and refuse alike: no key is 401 missing_api_key, two different keys 401
 * conflicting_api_keys.
 */

let tenant: Tenant;
let other: Tenant;

beforeAll(async () => {
  [tenant, other] = await Promise.all([createTenant(), createTenant()]);
});

async function collector(headers: Record<string, string>) {
  const res = await fetch(`${collectorUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json', ...headers },
    body: JSON.stringify(cloudEvent()),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

async function gateway(headers: Record<string, string>) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query: '{ me { id } }' }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as { data?: { me?: { id: string } }; errors?: Array<{ extensions?: { code?: string; reason?: string } }> };
  // GraphQL errors carry the class in `code` (UNAUTHENTICATED) and the collector's code as `reason`.
  const error = body.errors?.[0]?.extensions;
  return { status: res.status, code: error?.reason, class: error?.code, me: body.data?.me?.id };
}

describe('X-API-Key and Authorization: Bearer, on the collector and the gateway', () => {
  it('X-API-Key alone works on both doors, for the key\'s own organization', async () => {
    expect(await collector({ 'x-api-key': tenant.apiKey })).toEqual({ status: 202, code: undefined });
    expect(await gateway({ 'x-api-key': tenant.apiKey })).toMatchObject({ status: 200, me: tenant.orgId });
  });

  it('both headers with the same key work; with different keys both doors answer 401 conflicting_api_keys', async () => {
    const same = { authorization: `Bearer ${tenant.apiKey}`, 'x-api-key': tenant.apiKey };
    expect((await collector(same)).status).toBe(202);
    expect((await gateway(same)).me).toBe(tenant.orgId);
    const different = { authorization: `Bearer ${tenant.apiKey}`, 'x-api-key': other.apiKey };
    expect(await collector(different)).toEqual({ status: 401, code: 'conflicting_api_keys' });
    expect(await gateway(different)).toMatchObject({ status: 401, class: 'UNAUTHENTICATED', code: 'conflicting_api_keys' });
  });

  it('no key and an unknown key get the same codes from both doors', async () => {
    expect(await collector({})).toEqual({ status: 401, code: 'missing_api_key' });
    expect(await gateway({})).toMatchObject({ status: 401, class: 'UNAUTHENTICATED', code: 'missing_api_key' });
    const unknown = { 'x-api-key': `${tenant.apiKey.slice(0, -1)}${tenant.apiKey.endsWith('a') ? 'b' : 'a'}` };
    expect(await collector(unknown)).toEqual({ status: 401, code: 'invalid_api_key' });
    expect(await gateway(unknown)).toMatchObject({ status: 401, class: 'UNAUTHENTICATED', code: 'invalid_api_key' });
  });
});
