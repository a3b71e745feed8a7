import { describe, expect, it } from 'vitest';
import { createTenant, revokeKeys } from './support/tenants';
import { cloudEvent, eventually, graphql, postEvents } from './support/http';
import { E2E_API_KEY_CACHE_TTL_MS, E2E_EXPIRY_MARGIN_MS } from './support/e2e-config';
import { createMeter, METER_SCOPES, tenantWithMeters, wholeMinutesAround, type MeterInput } from './support/meters';
import { gatewayUrl } from './support/ports';

const COUNT = /* GraphQL */ `
  query Count($metric: String!, $from: DateTime!, $to: DateTime!) {
    usage(metric: $metric, from: $from, to: $to) { total rows { eventCount } }
  }
`;
type CountData = { usage: { total: string; rows: Array<{ eventCount: string }> } };
/** Both organizations meter the same type under the same slug: only the key tells them apart. */
const SHARED: MeterInput = { slug: 'shared_events', name: 'Shared events', eventType: 'shared.type', aggregation: 'COUNT' };

describe('tenancy: the org comes only from the credential', () => {
  it("never shows one org's events to another, even for the same type, subject and id", async () => {
    const alice = await tenantWithMeters([SHARED]);
    const mallory = await tenantWithMeters([SHARED]);
    const { from, to } = wholeMinutesAround();
    const shared = { type: 'shared.type', subject: 'same-customer', id: `same-id-${alice.orgId}` };
    const count = (apiKey: string) => graphql<CountData>(apiKey, COUNT, { metric: SHARED.slug, from, to });

    expect((await postEvents(alice.apiKey, cloudEvent(shared))).status).toBe(202);
    await eventually(async () => ((await count(alice.apiKey)).data?.usage.rows[0]?.eventCount === '1' ? true : undefined), "alice's event to be stored");

    const seenByMallory = await count(mallory.apiKey);
    expect(seenByMallory.errors).toBeUndefined();
    expect(seenByMallory.data?.usage).toEqual({ total: '0', rows: [] });

    // Mallory sending the very same event (same source and id) is her own event, not a duplicate of alice's.
    expect((await postEvents(mallory.apiKey, cloudEvent(shared))).status).toBe(202);
    await eventually(async () => ((await count(mallory.apiKey)).data?.usage.rows[0]?.eventCount === '1' ? true : undefined), "mallory's own copy to be stored");
    expect((await count(alice.apiKey)).data?.usage).toEqual({ total: '1', rows: [{ eventCount: '1' }] });
  });

  it("never answers with another organization's meter: a slug only alice has is unknown to mallory", async () => {
    const alice = await tenantWithMeters([{ ...SHARED, slug: 'alice_only' }]);
    const mallory = await createTenant();
    const res = await graphql<CountData>(mallory.apiKey, COUNT, { metric: 'alice_only', ...wholeMinutesAround() });
    expect(res.status).toBe(404);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'meter_not_found' });
    expect((await graphql<CountData>(alice.apiKey, COUNT, { metric: 'alice_only', ...wholeMinutesAround() })).errors).toBeUndefined();
  });

  it('offers no argument to pick another organization', async () => {
    const alice = await createTenant();
    const bob = await createTenant();
    const res = await graphql(alice.apiKey, `{ usage(metric: "api_calls", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", organizationId: "${bob.orgId}") { rows { value } } }`);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.message).toMatch(/organizationId/);
    const meter = await graphql(alice.apiKey, `{ meter(slug: "api_calls", organizationId: "${bob.orgId}") { slug } }`);
    expect(meter.status).toBe(400);
    expect(meter.errors?.[0]?.message).toMatch(/organizationId/);
  });

  it('rejects missing, malformed and unknown keys on both doors, each with its own code', async () => {
    const unknownKey = 'pol_aaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const cases = [
      [undefined, 'missing_api_key'],
      ['not-a-key', 'invalid_api_key'],
      [unknownKey, 'invalid_api_key'],
    ] as const;
    for (const [key, code] of cases) {
      const collector = await postEvents(key, cloudEvent());
      expect(collector.status).toBe(401);
      expect((collector.body.error as { code: string }).code).toBe(code);
      const gateway = await graphql(key, '{ me { id } }');
      expect(gateway.status).toBe(401);
      expect(gateway.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: code });
    }
  });

  it('stops accepting a revoked key on both doors once the key cache expires, and not much later', async () => {
    const tenant = await createTenant();
    // Both doors see (and cache) the key before it is revoked: the cache-expiry path is what is tested.
    expect((await postEvents(tenant.apiKey, cloudEvent())).status).toBe(202);
    expect((await graphql(tenant.apiKey, '{ me { id } }')).status).toBe(200);
    await revokeKeys(tenant.orgId);
    const revokedAt = Date.now();
    // Bounded by the configured TTL plus a margin, so a cache that ignored its TTL would fail here.
    const deadline = E2E_API_KEY_CACHE_TTL_MS + E2E_EXPIRY_MARGIN_MS;
    await eventually(async () => ((await postEvents(tenant.apiKey, cloudEvent())).status === 401 ? true : undefined), 'the collector to refuse the key', deadline, 50);
    const gateway = await eventually(async () => {
      const res = await graphql(tenant.apiKey, '{ me { id } }');
      return res.status === 401 ? res : undefined;
    }, 'the gateway to refuse the key', Math.max(1, deadline - (Date.now() - revokedAt)), 50);
    expect(gateway.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_api_key' });
  });

  it('enforces key scopes', async () => {
    const readOnly = await createTenant(['usage:read']);
    const res = await postEvents(readOnly.apiKey, cloudEvent());
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'missing_scope' } } });
    const writeOnly = await createTenant(['events:write']);
    const q = await graphql(writeOnly.apiKey, COUNT, { metric: 'api_calls', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' });
    expect(q.status).toBe(403);
    expect(q.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'missing_scope' });
    // Reading usage does not let a key define what is billed: meters need meters:write.
    const reader = await createTenant(['events:write', 'usage:read']);
    const meter: MeterInput = { slug: 'api_calls', name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' };
    await expect(createMeter(gatewayUrl, reader.apiKey, meter)).rejects.toThrow(/HTTP 403.*missing_scope/);
    const manager = await createTenant(METER_SCOPES);
    expect((await createMeter(gatewayUrl, manager.apiKey, meter)).slug).toBe('api_calls');
  });
});
