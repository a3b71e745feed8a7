import { describe, expect, it } from 'vitest';
import { createTenant, revokeKeys } from './support/tenants';
import { cloudEvent, eventually, graphql, postEvents } from './support/http';
import { E2E_API_KEY_CACHE_TTL_MS, E2E_EXPIRY_MARGIN_MS } from './support/e2e-config';

const COUNT = /* GraphQL */ `
  query Count($type: String!, $from: DateTime!, $to: DateTime!) {
    usage(eventType: $type, from: $from, to: $to) { rows { eventCount } }
  }
`;
type CountData = { usage: { rows: Array<{ eventCount: string }> } };

describe('tenancy: the org comes only from the credential', () => {
  it("never shows one org's events to another, even for the same type, subject and id", async () => {
    const alice = await createTenant();
    const mallory = await createTenant();
    const from = new Date(Date.now() - 60_000).toISOString();
    const shared = { type: 'shared.type', subject: 'same-customer', id: `same-id-${alice.orgId}` };

    expect((await postEvents(alice.apiKey, cloudEvent(shared))).status).toBe(202);
    const to = new Date(Date.now() + 60_000).toISOString();
    await eventually(async () => {
      const r = await graphql<CountData>(alice.apiKey, COUNT, { type: 'shared.type', from, to });
      return r.data?.usage.rows[0]?.eventCount === '1' ? true : undefined;
    }, "alice's event to be stored");

    const seenByMallory = await graphql<CountData>(mallory.apiKey, COUNT, { type: 'shared.type', from, to });
    expect(seenByMallory.data?.usage.rows).toEqual([]);

    // Mallory sending the very same event (same source and id) is her own event, not a duplicate of alice's.
    expect((await postEvents(mallory.apiKey, cloudEvent(shared))).status).toBe(202);
    await eventually(async () => {
      const r = await graphql<CountData>(mallory.apiKey, COUNT, { type: 'shared.type', from, to });
      return r.data?.usage.rows[0]?.eventCount === '1' ? true : undefined;
    }, "mallory's own copy to be stored");
    const alice2 = await graphql<CountData>(alice.apiKey, COUNT, { type: 'shared.type', from, to });
    expect(alice2.data?.usage.rows[0]?.eventCount).toBe('1');
  });

  it('offers no argument to pick another organization', async () => {
    const alice = await createTenant();
    const bob = await createTenant();
    const res = await graphql(alice.apiKey, `{ usage(eventType: "x", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", organizationId: "${bob.orgId}") { rows { value } } }`);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.message).toMatch(/organizationId/);
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
      expect(gateway.errors?.[0]?.extensions?.code).toBe(code);
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
    expect(gateway.errors?.[0]?.extensions?.code).toBe('invalid_api_key');
  });

  it('enforces key scopes', async () => {
    const readOnly = await createTenant(['usage:read']);
    const res = await postEvents(readOnly.apiKey, cloudEvent());
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'missing_scope' } } });
    const writeOnly = await createTenant(['events:write']);
    const q = await graphql(writeOnly.apiKey, COUNT, { type: 'x', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' });
    expect(q.status).toBe(403);
    expect(q.errors?.[0]?.extensions?.code).toBe('missing_scope');
  });
});
