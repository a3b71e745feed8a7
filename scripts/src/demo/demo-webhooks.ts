import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { webhookEndpoints, type Transactable } from '@polaris/postgres';

// The demo's webhook receiver: a local HTTP server registered as an endpoint of the demo
// organization, verifying each delivery's Standard Webhooks signature as a customer's receiver
// would (README "Webhooks", "Verifying a delivery"), and printing what it gets.

const DESCRIPTION = 'polaris demo receiver';

/** One verified delivery, as the receiver got it. */
export interface DemoDelivery {
  webhookId: string;
  type: string;
  data: Record<string, unknown>;
}

export interface DemoReceiver {
  url: string;
  endpointId: string;
  received(): number;
  /** The first verified delivery matching `match` (already received or still to come), or undefined after `timeoutMs`. */
  waitFor(match: (d: DemoDelivery) => boolean, timeoutMs: number): Promise<DemoDelivery | undefined>;
  close(): Promise<void>;
}

export async function startDemoReceiver(db: Transactable, organizationId: string, print: (line: string) => void): Promise<DemoReceiver> {
  // Set once the endpoint (and its secret) exists, which needs the server's port first.
  const signing: { verifier?: Webhook } = {};
  const seen = new Set<string>();
  const deliveries: DemoDelivery[] = [];
  const waiters = new Set<(d: DemoDelivery) => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(req.headers[h] ?? '')]));
      try {
        const event = signing.verifier?.verify(body, headers) as { type: string; data: Record<string, unknown> } | undefined;
        const id = headers['webhook-id'] ?? '';
        const repeat = seen.has(id) ? ' (seen before: a retry or replay, same webhook-id)' : '';
        seen.add(id);
        print(`webhook  ${event?.type ?? '?'}  ${id}  signature ok${repeat}\n         ${JSON.stringify(event?.data).slice(0, 200)}`);
        if (event) {
          const delivery = { webhookId: id, type: event.type, data: event.data };
          deliveries.push(delivery);
          for (const waiter of waiters) waiter(delivery);
        }
        res.writeHead(204).end();
      } catch (err) {
        print(`webhook  refused: ${err instanceof Error ? err.message : String(err)}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/polaris-webhooks`;
  // Each demo run listens on a new port: the receivers of earlier runs are gone.
  for (const old of await webhookEndpoints.list(db, { organizationId })) {
    if (old.description === DESCRIPTION) await webhookEndpoints.delete(db, { organizationId, endpointId: old.id });
  }
  const created = await webhookEndpoints.create(db, { organizationId, url, description: DESCRIPTION, eventTypes: [] });
  signing.verifier = new Webhook(created.secret);
  return {
    url,
    endpointId: created.endpoint.id,
    received: () => seen.size,
    waitFor: (match, timeoutMs) => {
      const found = deliveries.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const timer = setTimeout(() => finish(undefined), timeoutMs);
        const waiter = (d: DemoDelivery) => {
          if (match(d)) finish(d);
        };
        function finish(d: DemoDelivery | undefined) {
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(d);
        }
        waiters.add(waiter);
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
