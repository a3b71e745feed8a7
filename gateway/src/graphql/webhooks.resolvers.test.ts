import { status } from '@grpc/grpc-js';
import type { WebhookDelivery, WebhookEndpoint } from '@polaris/proto';
import { describe, expect, it } from 'vitest';
import { fakeSystem, ORG, Refusal } from '../test-support/fake-backends';

// Webhooks over GraphQL (README "Webhooks"), against a fake Webhooks service answering as the
// rating-worker's does: refusals reach the caller in its own argument names, another
// organization's endpoints and deliveries are NOT_FOUND, and the signing secret leaves the
// gateway only in the answers of createWebhookEndpoint and rotateWebhookSecret.

const OURS = '0d3c7a52-1f4e-4b8a-9c6d-2e5f7a8b9c01';
const DELIVERY = '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ROTATED = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

function endpoint(id = OURS): WebhookEndpoint {
  return {
    id,
    organizationId: ORG,
    url: 'https://hooks.example.com/polaris',
    description: 'billing hooks',
    eventTypes: ['invoice.finalized', 'invoice.paid'],
    enabled: true,
    disabledReason: '',
    alertEmail: '',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
  };
}

function delivery(status: string): WebhookDelivery {
  return {
    id: DELIVERY,
    organizationId: ORG,
    endpointId: OURS,
    eventId: '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d',
    eventType: 'invoice.paid',
    webhookId: 'msg_2b7e1f',
    status,
    attemptCount: 1,
    lastError: '',
    deliveredAt: status === 'delivered' ? new Date('2026-01-02T00:00:01Z') : undefined,
    lastAttemptAt: new Date('2026-01-02T00:00:01Z'),
    createdAt: new Date('2026-01-02T00:00:00Z'),
    attempts: [],
  };
}

/** The service's refusal of an id that is not one of the organization's, as the repositories throw it. */
const notOurs = (what: 'endpoint' | 'delivery', field: string) =>
  new Refusal(status.NOT_FOUND, `webhook_${what}_not_found`, `no webhook ${what} in this organization`, field);

function webhooks(scopes = ['billing:write']) {
  const ours = (req: Record<string, unknown>) => {
    if (req.endpointId !== OURS || req.organizationId !== ORG) throw notOurs('endpoint', 'endpoint_id');
  };
  return fakeSystem(scopes, {
    'webhooks.createEndpoint': (req) => {
      const url = String(req.url);
      if (!/^https?:\/\//.test(url)) throw new Refusal(status.INVALID_ARGUMENT, 'invalid_url', `url: ${JSON.stringify(url)} is not an absolute URL`, 'url');
      if ((req.eventTypes as string[]).includes('invoice.exploded')) {
        throw new Refusal(status.INVALID_ARGUMENT, 'unknown_event_type', 'event_types: unknown event type "invoice.exploded"', 'event_types');
      }
      if (req.alertEmail === 'nobody') throw new Refusal(status.INVALID_ARGUMENT, 'invalid_email', 'alert_email: "nobody" is not an email address', 'alert_email');
      return { endpoint: { ...endpoint(), url }, secret: SECRET };
    },
    // A service that (wrongly) put a secret beside each endpoint still could not make the gateway show it.
    'webhooks.listEndpoints': () => ({ endpoints: [{ ...endpoint(), secret: SECRET }] }),
    'webhooks.updateEndpoint': (req) => {
      ours(req);
      if (req.url !== undefined && !/^https?:\/\//.test(String(req.url))) throw new Refusal(status.INVALID_ARGUMENT, 'invalid_url', 'url: scheme ftp is not http or https', 'url');
      return { ...endpoint(), ...(req.url !== undefined ? { url: req.url } : {}) };
    },
    'webhooks.deleteEndpoint': (req) => {
      ours(req);
      return endpoint();
    },
    'webhooks.rotateSecret': (req) => {
      ours(req);
      return { endpoint: endpoint(), secret: ROTATED };
    },
    'webhooks.listDeliveries': (req) => ({
      deliveries: req.endpointId === '' || req.endpointId === OURS ? [delivery('failed'), delivery('delivered')] : [],
      nextPageToken: '',
    }),
    'webhooks.getDelivery': (req) => {
      if (req.deliveryId !== DELIVERY) throw notOurs('delivery', 'delivery_id');
      return delivery('delivered');
    },
    'webhooks.replayDelivery': (req) => {
      if (req.deliveryId !== DELIVERY) throw notOurs('delivery', 'delivery_id');
      return { ...delivery('pending'), attemptCount: 2 };
    },
  });
}

describe('webhook endpoints: refusals in the caller’s terms', () => {
  it('createWebhookEndpoint sends the key’s organization and the defaults', async () => {
    const { post, requests } = webhooks();
    const res = await post('mutation { createWebhookEndpoint(input: { url: "https://hooks.example.com/polaris" }) { endpoint { id url eventTypes enabled alertEmail disabledReason } } }');
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.createWebhookEndpoint).toEqual({
      endpoint: { id: OURS, url: 'https://hooks.example.com/polaris', eventTypes: ['invoice.finalized', 'invoice.paid'], enabled: true, alertEmail: null, disabledReason: null },
    });
    expect(requests.get('webhooks.createEndpoint')).toEqual([{ organizationId: ORG, url: 'https://hooks.example.com/polaris', eventTypes: [], description: '', alertEmail: '' }]);
  });

  it('an invalid URL, event type or alert email is BAD_USER_INPUT naming input.<argument>', async () => {
    const { post } = webhooks();
    for (const [input, reason, field] of [
      ['{ url: "not a url" }', 'invalid_url', 'input.url'],
      ['{ url: "https://h.example.com/", eventTypes: ["invoice.exploded"] }', 'unknown_event_type', 'input.eventTypes'],
      ['{ url: "https://h.example.com/", alertEmail: "nobody" }', 'invalid_email', 'input.alertEmail'],
    ] as const) {
      const res = await post(`mutation { createWebhookEndpoint(input: ${input}) { secret } }`);
      expect(res.status, input).toBe(400);
      expect(res.body.data ?? null, input).toBeNull();
      expect(res.body.errors?.[0]?.extensions, input).toMatchObject({ code: 'BAD_USER_INPUT', reason, field });
    }
    const update = await post(`mutation { updateWebhookEndpoint(id: "${OURS}", input: { url: "ftp://h.example.com/" }) { id } }`);
    expect(update.status).toBe(400);
    expect(update.body.errors?.[0]).toMatchObject({ message: 'url: scheme ftp is not http or https', extensions: { code: 'BAD_USER_INPUT', reason: 'invalid_url', field: 'input.url' } });
  });

  it("another organization's endpoint (or none) is NOT_FOUND naming id, for every action on it", async () => {
    const { post } = webhooks();
    const theirs = 'f00dcafe-0000-4000-8000-000000000001';
    for (const mutation of [
      `updateWebhookEndpoint(id: "${theirs}", input: { enabled: false }) { id }`,
      `deleteWebhookEndpoint(id: "${theirs}") { id }`,
      `rotateWebhookSecret(id: "${theirs}") { secret }`,
    ]) {
      const res = await post(`mutation { ${mutation} }`);
      expect(res.status, mutation).toBe(404);
      expect(res.body.data ?? null, mutation).toBeNull();
      expect(res.body.errors?.[0]?.extensions, mutation).toMatchObject({ code: 'NOT_FOUND', reason: 'webhook_endpoint_not_found', field: 'id' });
    }
  });

  it('reads take billing:read, changes billing:write; anything else is FORBIDDEN before any webhook call', async () => {
    const reader = webhooks(['billing:read']);
    expect((await reader.post('{ webhookEndpoints { id } }')).body.data).toEqual({ webhookEndpoints: [{ id: OURS }] });
    const write = await reader.post('mutation { createWebhookEndpoint(input: { url: "https://h.example.com/" }) { secret } }');
    expect(write.status).toBe(403);
    expect(write.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'missing_scope' });
    expect(reader.calls.get('webhooks.createEndpoint')).toBeUndefined();
    const usageOnly = webhooks(['usage:read', 'events:write']);
    expect((await usageOnly.post('{ webhookDeliveries { deliveries { id } } }')).status).toBe(403);
    expect([...usageOnly.calls.keys()]).toEqual(['identity.validateApiKey']);
  });
});

describe('the signing secret: in the answers of create and rotate only', () => {
  it('createWebhookEndpoint and rotateWebhookSecret answer the secret', async () => {
    const { post } = webhooks();
    const created = await post('mutation { createWebhookEndpoint(input: { url: "https://hooks.example.com/polaris" }) { endpoint { id } secret } }');
    expect(created.body.data?.createWebhookEndpoint).toEqual({ endpoint: { id: OURS }, secret: SECRET });
    const rotated = await post(`mutation { rotateWebhookSecret(id: "${OURS}") { endpoint { id } secret } }`);
    expect(rotated.body.data?.rotateWebhookSecret).toEqual({ endpoint: { id: OURS }, secret: ROTATED });
  });

  it('an endpoint has no secret field: listing, updating or deleting one never shows it', async () => {
    const { post, calls } = webhooks();
    const asked = await post('{ webhookEndpoints { id secret } }');
    expect(asked.status).toBe(400);
    expect(asked.body.errors?.[0]?.message).toMatch(/Cannot query field "secret" on type "WebhookEndpoint"/);
    expect(calls.get('webhooks.listEndpoints')).toBeUndefined();
    const fields = 'id url description eventTypes enabled disabledReason disabledAt alertEmail failingSince createdAt updatedAt';
    for (const query of [
      `{ webhookEndpoints { ${fields} } }`,
      `mutation { updateWebhookEndpoint(id: "${OURS}", input: { description: "x" }) { ${fields} } }`,
      `mutation { deleteWebhookEndpoint(id: "${OURS}") { ${fields} } }`,
    ]) {
      const res = await post(query);
      expect(res.body.errors, query).toBeUndefined();
      expect(JSON.stringify(res.body), query).not.toContain('whsec_');
    }
    const type = await post('{ __type(name: "WebhookEndpoint") { fields { name } } }');
    expect((type.body.data?.__type as { fields: Array<{ name: string }> }).fields.map((f) => f.name)).not.toContain('secret');
  });
});

describe('the delivery log and replays', () => {
  it('statuses cross as enums both ways; an empty next page token is a null cursor', async () => {
    const { post, requests } = webhooks(['billing:read']);
    const res = await post(`{ webhookDeliveries(endpointId: "${OURS}", status: FAILED, eventType: "invoice.paid", first: 10) { deliveries { status webhookId lastError deliveredAt } nextCursor } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.webhookDeliveries).toEqual({
      deliveries: [
        { status: 'FAILED', webhookId: 'msg_2b7e1f', lastError: null, deliveredAt: null },
        { status: 'DELIVERED', webhookId: 'msg_2b7e1f', lastError: null, deliveredAt: '2026-01-02T00:00:01.000Z' },
      ],
      nextCursor: null,
    });
    expect(requests.get('webhooks.listDeliveries')?.[0]).toEqual({ organizationId: ORG, endpointId: OURS, status: 'failed', eventType: 'invoice.paid', pageSize: 10, pageToken: '' });
  });

  it("another organization's delivery is NOT_FOUND naming id, to read and to replay; the replay of ours keeps its webhook-id", async () => {
    const { post } = webhooks();
    const theirs = 'f00dcafe-0000-4000-8000-000000000002';
    for (const query of [`{ webhookDelivery(id: "${theirs}") { id } }`, `mutation { replayWebhookDelivery(id: "${theirs}") { id } }`]) {
      const res = await post(query);
      expect(res.status, query).toBe(404);
      expect(res.body.errors?.[0]?.extensions, query).toMatchObject({ code: 'NOT_FOUND', reason: 'webhook_delivery_not_found', field: 'id' });
    }
    const replayed = await post(`mutation { replayWebhookDelivery(id: "${DELIVERY}") { webhookId status attemptCount } }`);
    expect(replayed.body.data?.replayWebhookDelivery).toEqual({ webhookId: 'msg_2b7e1f', status: 'PENDING', attemptCount: 2 });
  });
});
