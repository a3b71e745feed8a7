import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDevConfig, stackLayout } from '@polaris/dev/local-stack';
import { catalogueEntry } from '@polaris/postgres';
import { startWebhookReceiver, type WebhookReceiver } from '@polaris/rating-worker/testing/webhook-receiver';
import { startBillingSystem, type BillingSystem } from './support/billing-system';
import { eventually } from './support/http';
import type { Tenant } from './support/tenants';

/**
 * Webhooks and notification email through real processes (README "Webhooks"), on a Polaris of
 * its own (support/billing-system.ts, with a gateway) whose notifier dispatches every 200 ms and
 * mails the local stack's SMTP server (`polaris stack up`; it keeps each message as a file).
 * Over GraphQL with API keys: an endpoint at a real HTTP receiver that verifies every signature
 * (as a customer would, with the `standardwebhooks` library and the secret shown at creation),
 * taking the invoice events; an invoice drafted by the rating-worker, finalized and paid over
 * GraphQL; each event received once, signed, and logged as delivered; a replay sends the same
 * webhook-id again; the finalized invoice is mailed to the customer; and another organization
 * neither sees nor touches any of it.
 */

const SCOPES = ['billing:read', 'billing:write', 'admin'] as const;
const INVOICE_EVENTS = ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.voided'];

interface Answer<T> {
  status: number;
  text: string;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string; field?: string } }>;
}

interface Delivery {
  id: string;
  endpointId: string;
  eventType: string;
  webhookId: string;
  status: string;
  attemptCount: number;
}

const DELIVERY_FIELDS = 'id endpointId eventType webhookId status attemptCount';
const now = new Date();
const monthStart = (back: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));

/** The summaries (`<n>.json`) the local SMTP server kept of the messages sent to `to`. */
function mailTo(dir: string, to: string): Array<{ to: string; subject: string; text: string }> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { to: string; subject: string; text: string })
    .filter((m) => m.to.includes(to));
}

describe('notifications: webhooks and email for an invoice, through the gateway', () => {
  const dev = loadDevConfig();
  const mailDir = stackLayout(dev.stackDir).smtp.messages;
  let system: BillingSystem;
  let receiver: WebhookReceiver;
  let a: Tenant;
  let b: Tenant;
  let gql: <T>(tenant: Tenant, query: string) => Promise<Answer<T>>;
  let ok: <T>(tenant: Tenant, query: string) => Promise<T>;
  const ids = { endpoint: '', invoice: '', customerEmail: `billing-${randomUUID().slice(0, 8)}@acme.example` };
  let deliveries: Delivery[] = [];

  beforeAll(async () => {
    [system, receiver] = await Promise.all([
      startBillingSystem({
        label: 'notifications',
        invoiceGraceMs: 3_600_000,
        gateway: true,
        ratingWorkerEnv: {
          SMTP_URL: `smtp://127.0.0.1:${dev.ports.smtp}`,
          // The receiver listens on loopback: refused in production, allowed for tests and demos.
          WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
          WEBHOOK_DISPATCH_INTERVAL_MS: '200',
        },
      }),
      startWebhookReceiver(),
    ]);
    const url = system.gatewayUrl ?? '';
    gql = async (tenant, query) => {
      const res = await fetch(url, {
        method: 'POST',
        signal: AbortSignal.timeout(20_000),
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': tenant.apiKey },
        body: JSON.stringify({ query }),
      });
      const text = await res.text();
      return { status: res.status, text, ...(JSON.parse(text) as object) };
    };
    ok = async <T>(tenant: Tenant, query: string) => {
      const res = await gql<T>(tenant, query);
      if (res.errors?.length || !res.data) throw new Error(`${query} failed (HTTP ${res.status}): ${res.text}`);
      return res.data;
    };
    [a, b] = await Promise.all([system.createTenant([...SCOPES]), system.createTenant([...SCOPES])]);
  });
  afterAll(async () => {
    await receiver?.close();
    await system?.stop();
  });

  it('an invoice finalized and paid over GraphQL: each event signed and received once, logged as delivered, and mailed', async () => {
    type Created = { createWebhookEndpoint: { endpoint: { id: string; url: string; eventTypes: string[]; enabled: boolean }; secret: string } };
    const created = (
      await ok<Created>(
        a,
        `mutation { createWebhookEndpoint(input: { url: "${receiver.url}", eventTypes: ${JSON.stringify(INVOICE_EVENTS)}, description: "e2e receiver" }) { endpoint { id url eventTypes enabled } secret } }`,
      )
    ).createWebhookEndpoint;
    expect(created.endpoint).toMatchObject({ url: receiver.url, eventTypes: [...INVOICE_EVENTS].sort(), enabled: true });
    expect(created.secret).toMatch(/^whsec_/);
    receiver.setSecret(created.secret);
    ids.endpoint = created.endpoint.id;

    // A customer with an email, on a flat plan since last month: the rating-worker drafts last month's invoice.
    type Customer = { createCustomer: { id: string } };
    const customer = (await ok<Customer>(a, `mutation { createCustomer(input: { externalId: "acme", name: "Acme", email: "${ids.customerEmail}", currency: "USD" }) { id } }`)).createCustomer;
    await ok(a, 'mutation { createPlan(input: { key: "flat", name: "Flat", currency: "USD", prices: [{ key: "base", model: FLAT, amount: "10" }] }) { id } }');
    await ok(a, 'mutation { publishPlanVersion(planKey: "flat", version: 1) { version } }');
    await ok(a, `mutation { createSubscription(input: { customerId: "${customer.id}", planKey: "flat", startAt: "${monthStart(1).toISOString()}" }) { id } }`);
    type Listed = { invoices: Array<{ id: string; totalAmount: string | null; status: string }> };
    const [drafted] = await eventually(async () => {
      const { invoices } = await ok<Listed>(a, `{ invoices(customerId: "${customer.id}") { id totalAmount status } }`);
      return invoices[0]?.totalAmount ? invoices : undefined;
    }, 'the rating-worker to draft and compute the invoice');
    expect(drafted).toMatchObject({ totalAmount: '10.00', status: 'DRAFT' });
    ids.invoice = drafted?.id ?? '';

    expect(await ok(a, `mutation { finalizeInvoice(id: "${ids.invoice}") { status number } }`)).toEqual({ finalizeInvoice: { status: 'FINALIZED', number: 'INV-000001' } });
    expect(await ok(a, `mutation { markInvoicePaid(id: "${ids.invoice}") { status } }`)).toEqual({ markInvoicePaid: { status: 'PAID' } });

    // The receiver gets created, finalized and paid, each signed with the secret shown at creation.
    const received = await eventually(
      async () => (['invoice.created', 'invoice.finalized', 'invoice.paid'].every((t) => receiver.received.some((r) => r.body.type === t)) ? receiver.received : undefined),
      'the three invoice webhooks to arrive',
    );
    // The log says delivered for all three: no attempt is left to send one twice.
    deliveries = await eventually(async () => {
      const page = await ok<{ webhookDeliveries: { deliveries: Delivery[] } }>(a, `{ webhookDeliveries(endpointId: "${ids.endpoint}") { deliveries { ${DELIVERY_FIELDS} } } }`);
      const list = page.webhookDeliveries.deliveries;
      return list.length === 3 && list.every((d) => d.status === 'DELIVERED') ? list : undefined;
    }, 'the delivery log to show three delivered webhooks');
    expect(received.map((r) => r.signatureValid)).toEqual(received.map(() => true));
    const byType = (type: string) => received.filter((r) => r.body.type === type);
    expect(byType('invoice.finalized')).toHaveLength(1);
    expect(byType('invoice.paid')).toHaveLength(1);
    expect(byType('invoice.created')).toHaveLength(1);
    expect(received).toHaveLength(3);
    expect(byType('invoice.finalized')[0]?.body).toMatchObject({
      version: 1,
      data: { invoice: { id: ids.invoice, number: 'INV-000001', status: 'finalized', customerId: customer.id, customerExternalId: 'acme', currency: 'USD' } },
    });
    expect(byType('invoice.paid')[0]?.body.data).toMatchObject({ invoice: { id: ids.invoice, status: 'paid' } });
    // Every body is its type's catalogue schema, as the README documents it.
    for (const { body } of received) expect(catalogueEntry(body.type, body.version)?.schema.safeParse(body.data).success, body.type).toBe(true);
    // The log and the receiver agree on each webhook-id, and each delivery was one attempt.
    expect(deliveries.map((d) => [d.eventType, d.webhookId, d.attemptCount]).sort()).toEqual(received.map((r) => [r.body.type, r.webhookId, 1]).sort());

    // The finalized invoice is mailed to the customer's address, once.
    const mail = await eventually(async () => {
      const got = mailTo(mailDir, ids.customerEmail);
      return got.length > 0 ? got : undefined;
    }, `the invoice email to reach the local SMTP server (${mailDir})`);
    expect(mail).toHaveLength(1);
    const total = (byType('invoice.finalized')[0]?.body.data as { invoice: { total: string } }).invoice.total;
    expect(total).toMatch(/^10(\.0+)?$/);
    expect(mail[0]?.subject).toBe(`Invoice INV-000001 finalized: ${total} USD`);
    expect(mail[0]?.text).toContain('Customer: acme');
  });

  it('a replay sends the same webhook-id once more, signed, and is logged as a replay attempt', async () => {
    const paid = deliveries.find((d) => d.eventType === 'invoice.paid');
    expect(paid).toBeDefined();
    const before = receiver.received.length;
    const replayed = await ok<{ replayWebhookDelivery: Delivery }>(a, `mutation { replayWebhookDelivery(id: "${paid?.id}") { ${DELIVERY_FIELDS} } }`);
    expect(replayed.replayWebhookDelivery).toMatchObject({ id: paid?.id, webhookId: paid?.webhookId });
    const again = await eventually(async () => (receiver.received.length > before ? receiver.received.slice(before) : undefined), 'the replayed webhook to arrive');
    expect(again).toEqual([expect.objectContaining({ webhookId: paid?.webhookId, signatureValid: true, body: expect.objectContaining({ type: 'invoice.paid' }) })]);
    type One = { webhookDelivery: Delivery & { attempts: Array<{ trigger: string; outcome: string; responseStatus: number | null }> } };
    const logged = await eventually(async () => {
      const { webhookDelivery } = await ok<One>(a, `{ webhookDelivery(id: "${paid?.id}") { ${DELIVERY_FIELDS} attempts { trigger outcome responseStatus } } }`);
      return webhookDelivery.attempts.length === 2 && webhookDelivery.status === 'DELIVERED' ? webhookDelivery : undefined;
    }, 'the replay attempt to be logged');
    expect(logged.attempts).toEqual([
      { trigger: 'initial', outcome: 'delivered', responseStatus: 200 },
      { trigger: 'replay', outcome: 'delivered', responseStatus: 200 },
    ]);
  });

  it("another organization neither sees nor replays nor changes the first one's endpoint and deliveries", async () => {
    const [delivery] = deliveries;
    const before = receiver.received.length;
    const lists = await ok<{ webhookEndpoints: unknown[]; all: { deliveries: unknown[] }; of: { deliveries: unknown[] } }>(
      b,
      `{ webhookEndpoints { id } all: webhookDeliveries { deliveries { id } } of: webhookDeliveries(endpointId: "${ids.endpoint}") { deliveries { id } } }`,
    );
    expect(lists).toEqual({ webhookEndpoints: [], all: { deliveries: [] }, of: { deliveries: [] } });
    for (const [query, reason] of [
      [`{ webhookDelivery(id: "${delivery?.id}") { id webhookId } }`, 'webhook_delivery_not_found'],
      [`mutation { replayWebhookDelivery(id: "${delivery?.id}") { id } }`, 'webhook_delivery_not_found'],
      [`mutation { rotateWebhookSecret(id: "${ids.endpoint}") { secret } }`, 'webhook_endpoint_not_found'],
      [`mutation { updateWebhookEndpoint(id: "${ids.endpoint}", input: { url: "https://elsewhere.example/" }) { id } }`, 'webhook_endpoint_not_found'],
      [`mutation { deleteWebhookEndpoint(id: "${ids.endpoint}") { id } }`, 'webhook_endpoint_not_found'],
    ] as const) {
      const res = await gql(b, query);
      expect(res.status, query).toBe(404);
      expect(res.data ?? null, query).toBeNull();
      expect(res.errors?.[0]?.extensions, query).toMatchObject({ code: 'NOT_FOUND', reason, field: 'id' });
      for (const secret of [receiver.url, ids.invoice, delivery?.webhookId ?? '']) expect(res.text, `${query} leaks ${secret}`).not.toContain(secret);
    }
    // A's endpoint is as it was, and B's replay sent nothing.
    const endpoints = await ok<{ webhookEndpoints: Array<{ id: string; url: string; enabled: boolean }> }>(a, '{ webhookEndpoints { id url enabled } }');
    expect(endpoints.webhookEndpoints).toEqual([{ id: ids.endpoint, url: receiver.url, enabled: true }]);
    expect(receiver.received.length).toBe(before);
  });
});
