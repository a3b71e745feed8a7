import { describe, expect, it } from 'vitest';
import { createTenant, revokeKeys } from './support/tenants';
import { cloudEvent, eventually, graphql, postEvents } from './support/http';

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

  it('rejects missing, malformed and unknown keys on both doors', async () => {
    const unknownKey = 'pol_aaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    for (const key of [undefined, 'not-a-key', unknownKey]) {
      const collector = await postEvents(key, cloudEvent());
      expect(collector.status).toBe(401);
      expect((collector.body.error as { code: string }).code).toMatch(/^(missing_api_key|invalid_api_key)$/);
      const gateway = await graphql(key, '{ me { id } }');
      expect(gateway.status).toBe(401);
      expect(gateway.errors?.[0]?.extensions?.code).toMatch(/^(missing_api_key|invalid_api_key)$/);
    }
  });

  it('stops accepting a revoked key on both doors once the key cache expires', async () => {
    const tenant = await createTenant();
    expect((await postEvents(tenant.apiKey, cloudEvent())).status).toBe(202);
    await revokeKeys(tenant.orgId);
    await eventually(async () => ((await postEvents(tenant.apiKey, cloudEvent())).status === 401 ? true : undefined), 'the collector to refuse the key');
    const gateway = await eventually(async () => {
      const res = await graphql(tenant.apiKey, '{ me { id } }');
      return res.status === 401 ? res : undefined;
    }, 'the gateway to refuse the key');
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
