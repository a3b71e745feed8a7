import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationEvents, webhookDispatch, withOrg, type QueuedDelivery } from '@polaris/postgres';
import { WebhooksClient } from '@polaris/proto';
import { rejection, startBillingGrpc, type BillingGrpcHarness } from '../test-support/billing-grpc-harness';
import { webhooksService } from './webhooks.grpc';

// polaris.v1.Webhooks over a real server and a PostgreSQL database of its own: endpoint
// management, the secret shown once, bad input named by field (in production mode: private
// URLs refused), the delivery log and replays, and one organization never reaching another's.

const PERMISSION_DENIED = 7;
let h: BillingGrpcHarness;
let gateway: WebhooksClient;
const queued: QueuedDelivery[] = [];

beforeAll(async () => {
  h = await startBillingGrpc((pool, unary) => [
    webhooksService({ pool, allowPrivateTargets: false, enqueue: async (d) => void queued.push(...d) }, unary),
  ]);
  gateway = h.client(WebhooksClient);
});
afterAll(async () => h?.stop());

const create = (organizationId: string, url: string, eventTypes: string[] = []) =>
  h.call(gateway.createEndpoint.bind(gateway), { organizationId, url, description: 'test', eventTypes, alertEmail: '' }, organizationId);

/** An event of org A fanned out to its endpoints (what the dispatcher does), returning the deliveries. */
async function fannedEvent(org: string): Promise<QueuedDelivery[]> {
  const eventId = await withOrg(h.db.pool, org, (tx) =>
    notificationEvents.record(tx, { organizationId: org, type: 'invoice.paid', payload: {}, dedupeKey: `k:${Math.random()}`, occurredAt: new Date() }),
  );
  return (await webhookDispatch.fanOut(h.db.pool, org, [eventId ?? ''])).deliveries;
}

describe('Webhooks gRPC', () => {
  it('creates an endpoint with its secret shown once, lists, updates, rotates and deletes it', async () => {
    const created = await create(h.orgA, 'https://8.8.8.8/hooks', ['invoice.paid', 'invoice.finalized']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    expect(created.endpoint).toMatchObject({ organizationId: h.orgA, url: 'https://8.8.8.8/hooks', eventTypes: ['invoice.finalized', 'invoice.paid'], enabled: true });
    const ref = { organizationId: h.orgA, endpointId: created.endpoint?.id ?? '' };
    const read = await h.call(gateway.getEndpoint.bind(gateway), ref, h.orgA);
    expect(read).toEqual(created.endpoint);
    expect(JSON.stringify(read)).not.toContain('whsec_');
    const listed = await h.call(gateway.listEndpoints.bind(gateway), { organizationId: h.orgA }, h.orgA);
    expect(listed.endpoints.map((e) => e.id)).toContain(ref.endpointId);

    const updated = await h.call(gateway.updateEndpoint.bind(gateway), { ...ref, eventTypes: { eventTypes: [] }, enabled: false }, h.orgA);
    expect(updated).toMatchObject({ eventTypes: [], enabled: false, disabledReason: 'disabled by request' });
    const enabled = await h.call(gateway.updateEndpoint.bind(gateway), { ...ref, enabled: true }, h.orgA);
    expect(enabled).toMatchObject({ enabled: true, disabledReason: '' });

    const rotated = await h.call(gateway.rotateSecret.bind(gateway), ref, h.orgA);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    await h.call(gateway.deleteEndpoint.bind(gateway), ref, h.orgA);
    expect(await rejection(h.call(gateway.getEndpoint.bind(gateway), ref, h.orgA))).toMatchObject({ kind: 'not_found', code: 'webhook_endpoint_not_found' });
  });

  it('refuses bad input with the field named: invalid URL, private-range URL (production mode), unknown event type', async () => {
    expect(await rejection(create(h.orgA, 'not a url'))).toMatchObject({ kind: 'invalid_argument', code: 'invalid_url', field: 'url' });
    expect(await rejection(create(h.orgA, 'ftp://8.8.8.8/x'))).toMatchObject({ code: 'invalid_url', field: 'url' });
    for (const url of ['http://127.0.0.1:9000/hook', 'http://10.0.0.5/hook', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://localhost:8080/x']) {
      expect(await rejection(create(h.orgA, url)), url).toMatchObject({ kind: 'invalid_argument', code: 'private_url', field: 'url' });
    }
    const unknown = await rejection(create(h.orgA, 'https://8.8.8.8/hooks', ['invoice.paid', 'invoice.exploded']));
    expect(unknown).toMatchObject({ kind: 'invalid_argument', code: 'unknown_event_type', field: 'event_types' });
    expect(unknown.message).toContain('"invoice.exploded"');
    const email = await rejection(h.call(gateway.createEndpoint.bind(gateway), { organizationId: h.orgA, url: 'https://8.8.8.8/', description: '', eventTypes: [], alertEmail: 'nope' }, h.orgA));
    expect(email).toMatchObject({ code: 'invalid_email', field: 'alert_email' });
  });

  it('lists deliveries, shows one with its webhook-id, and replays one or a time range', async () => {
    const endpoint = await create(h.orgA, 'https://8.8.4.4/hooks', ['invoice.paid']);
    const before = new Date(Date.now() - 1_000);
    const [first] = await fannedEvent(h.orgA);
    await fannedEvent(h.orgA);
    if (!first) throw new Error('no delivery made');
    const listed = await h.call(gateway.listDeliveries.bind(gateway), { organizationId: h.orgA, endpointId: endpoint.endpoint?.id ?? '', status: '', eventType: '', pageSize: 1, pageToken: '' }, h.orgA);
    expect(listed.deliveries).toHaveLength(1);
    expect(listed.nextPageToken).not.toBe('');
    const next = await h.call(gateway.listDeliveries.bind(gateway), { organizationId: h.orgA, endpointId: endpoint.endpoint?.id ?? '', status: '', eventType: '', pageSize: 1, pageToken: listed.nextPageToken }, h.orgA);
    expect(next.deliveries[0]?.id).not.toBe(listed.deliveries[0]?.id);

    const one = await h.call(gateway.getDelivery.bind(gateway), { organizationId: h.orgA, deliveryId: first.deliveryId }, h.orgA);
    expect(one).toMatchObject({ status: 'pending', eventType: 'invoice.paid', webhookId: `msg_${first.deliveryId.replace(/-/g, '')}` });

    queued.length = 0;
    await h.call(gateway.replayDelivery.bind(gateway), { organizationId: h.orgA, deliveryId: first.deliveryId }, h.orgA);
    expect(queued).toEqual([{ deliveryId: first.deliveryId, organizationId: h.orgA, replays: 1 }]);
    const ranged = await h.call(gateway.replayDeliveries.bind(gateway), { organizationId: h.orgA, createdFrom: before, createdTo: new Date(Date.now() + 1_000), endpointId: endpoint.endpoint?.id ?? '', status: '' }, h.orgA);
    expect(ranged.replayed).toBe(2);
    const noRange = await rejection(h.call(gateway.replayDeliveries.bind(gateway), { organizationId: h.orgA, createdFrom: before, endpointId: '', status: '' }, h.orgA));
    expect(noRange).toMatchObject({ code: 'invalid_time_range', field: 'created_to' });
  });

  it("shows org B none of A's endpoints or deliveries, and lets B replay none of them", async () => {
    const theirs = await create(h.orgA, 'https://1.1.1.1/hooks', ['invoice.paid']);
    const [delivery] = await fannedEvent(h.orgA);
    if (!delivery) throw new Error('no delivery made');
    const endpointRef = { organizationId: h.orgB, endpointId: theirs.endpoint?.id ?? '' };
    const deliveryRef = { organizationId: h.orgB, deliveryId: delivery.deliveryId };

    expect((await h.call(gateway.listEndpoints.bind(gateway), { organizationId: h.orgB }, h.orgB)).endpoints).toEqual([]);
    expect(await rejection(h.call(gateway.getEndpoint.bind(gateway), endpointRef, h.orgB))).toMatchObject({ code: 'webhook_endpoint_not_found' });
    expect(await rejection(h.call(gateway.updateEndpoint.bind(gateway), { ...endpointRef, url: 'https://8.8.8.8/mine' }, h.orgB))).toMatchObject({ code: 'webhook_endpoint_not_found' });
    expect(await rejection(h.call(gateway.rotateSecret.bind(gateway), endpointRef, h.orgB))).toMatchObject({ code: 'webhook_endpoint_not_found' });
    expect(await rejection(h.call(gateway.deleteEndpoint.bind(gateway), endpointRef, h.orgB))).toMatchObject({ code: 'webhook_endpoint_not_found' });

    const all = { status: '', eventType: '', pageSize: 0, pageToken: '' };
    expect((await h.call(gateway.listDeliveries.bind(gateway), { organizationId: h.orgB, endpointId: '', ...all }, h.orgB)).deliveries).toEqual([]);
    expect((await h.call(gateway.listDeliveries.bind(gateway), { organizationId: h.orgB, endpointId: endpointRef.endpointId, ...all }, h.orgB)).deliveries).toEqual([]);
    expect(await rejection(h.call(gateway.getDelivery.bind(gateway), deliveryRef, h.orgB))).toMatchObject({ code: 'webhook_delivery_not_found' });
    queued.length = 0;
    expect(await rejection(h.call(gateway.replayDelivery.bind(gateway), deliveryRef, h.orgB))).toMatchObject({ code: 'webhook_delivery_not_found' });
    const range = { createdFrom: new Date(Date.now() - 3_600_000), createdTo: new Date(Date.now() + 3_600_000), status: '' };
    expect((await h.call(gateway.replayDeliveries.bind(gateway), { organizationId: h.orgB, endpointId: '', ...range }, h.orgB)).replayed).toBe(0);
    expect(queued).toEqual([]);

    // Naming A's organization while acting for B is refused before any handler runs.
    const denied = { grpcCode: PERMISSION_DENIED, code: 'organization_mismatch', field: 'organization_id' };
    expect(await h.outcome(WebhooksClient, 'getDelivery', { organizationId: h.orgA, deliveryId: delivery.deliveryId }, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(WebhooksClient, 'replayDelivery', { organizationId: h.orgA, deliveryId: delivery.deliveryId }, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(WebhooksClient, 'listEndpoints', { organizationId: h.orgA }, { actingFor: h.orgB })).toEqual(denied);
  });
});
