import { Webhook } from 'standardwebhooks';
import type { SigningSecrets } from '@polaris/postgres';

// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`
// and `webhook-signature` = `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, computed by
// the `standardwebhooks` library, the one receivers verify with. While a rotated-out secret is
// still in its grace, a second signature under it follows, space-separated (the spec allows
// several), so a receiver holding either secret verifies.

/** The webhook-id of a delivery: the same for its every retry and replay, so receivers deduplicate on it. */
export const webhookIdOf = (deliveryId: string): string => `msg_${deliveryId.replace(/-/g, '')}`;

export function signatureHeaders(secrets: SigningSecrets, deliveryId: string, body: string, at: Date): Record<string, string> {
  const id = webhookIdOf(deliveryId);
  const signatures = [secrets.current, ...(secrets.previous ? [secrets.previous] : [])].map((secret) => new Webhook(secret).sign(id, at, body));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** The body of a delivery: the event in the envelope the README documents. */
export function webhookBody(event: { id: string; type: string; schemaVersion: number; payload: unknown; occurredAt: Date }): string {
  return JSON.stringify({ type: event.type, version: event.schemaVersion, eventId: event.id, timestamp: event.occurredAt.toISOString(), data: event.payload });
}
