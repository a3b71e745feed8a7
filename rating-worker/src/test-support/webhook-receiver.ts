/**
 * Test support: a real HTTP webhook receiver that verifies every delivery's Standard Webhooks
 * signature with the `standardwebhooks` library (as a customer would), records what it got, and
 * can be taken down and brought back on the same port, or told to answer with an error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  webhookId: string;
  signatureValid: boolean;
  body: { type: string; version: number; eventId: string; timestamp: string; data: Record<string, unknown> };
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The signing secret to verify with (set once the endpoint is created). */
  setSecret(secret: string): void;
  /** The status answered to every request from now on (200 by default). */
  answerWith(status: number): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let verifier: Webhook | undefined;
  let status = 200;
  const received: ReceivedWebhook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
      let signatureValid: boolean;
      try {
        verifier?.verify(raw, headers);
        signatureValid = verifier !== undefined;
      } catch {
        signatureValid = false;
      }
      if (status >= 200 && status < 300) received.push({ webhookId: headers['webhook-id'], signatureValid, body: JSON.parse(raw), receivedAt: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'down for maintenance');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    setSecret: (secret) => {
      verifier = new Webhook(secret);
    },
    answerWith: (s) => {
      status = s;
    },
    down: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    up: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
