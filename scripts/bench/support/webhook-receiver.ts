import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Cleanup } from './bench-system';

/**
 * bench:notify's webhook receiver: a loopback HTTP server that verifies every Standard Webhooks
 * signature (the endpoint's secret, set once the endpoint exists), answers 204, and keeps every
 * verified delivery with its arrival time. A delivery it cannot verify is answered 400 and counted.
 */

/** The body Polaris signs (rating-worker/src/notifications/webhook-signature.ts, webhookBody). */
export interface WebhookEvent {
  type: string;
  eventId: string;
  data: Record<string, unknown>;
}

export interface ReceivedWebhook {
  /** Arrival, ms since the epoch (Date.now(): the clock the senders' times are taken with). */
  at: number;
  /** The webhook-id header: one per delivery, the same on its retries. */
  webhookId: string;
  event: WebhookEvent;
}

export interface WebhookReceiver {
  url: string;
  /** Every verified delivery, in arrival order (retries of one webhook-id included). */
  received: ReceivedWebhook[];
  /** eventId → arrival times, one per delivery received. */
  arrivals: Map<string, number[]>;
  badSignatures: number;
  setSecret(secret: string): void;
}

export async function startWebhookReceiver(cleanup: Cleanup): Promise<WebhookReceiver> {
  const signing: { verifier?: Webhook } = {};
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    arrivals: new Map(),
    badSignatures: 0,
    setSecret: (secret) => (signing.verifier = new Webhook(secret)),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const webhookId = String(req.headers['webhook-id']);
        const headers = { 'webhook-id': webhookId, 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
        if (!signing.verifier) throw new Error('no secret yet');
        const event = signing.verifier.verify(body, headers) as WebhookEvent;
        receiver.received.push({ at, webhookId, event });
        receiver.arrivals.set(event.eventId, [...(receiver.arrivals.get(event.eventId) ?? []), at]);
        res.writeHead(204).end();
      } catch {
        receiver.badSignatures++;
        res.writeHead(400).end();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add('stop the webhook receiver', () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
