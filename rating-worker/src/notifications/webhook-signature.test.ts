import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecretForTest } from './webhook-signature.fixtures';
import { signatureHeaders, webhookBody, webhookIdOf } from './webhook-signature';

describe('webhook signatures', () => {
  const body = webhookBody({ id: 'e1', type: 'invoice.paid', schemaVersion: 1, payload: { invoice: { id: 'x' } }, occurredAt: new Date('2026-08-01T00:00:00Z') });

  it('signs per Standard Webhooks: the receiver library verifies id, timestamp and body', () => {
    const secret = newWebhookSecretForTest();
    const headers = signatureHeaders({ current: secret }, '0b9f3c1e-6a57-4f3e-9d8a-2f1c4b7e9a10', body, new Date());
    expect(headers['webhook-id']).toBe('msg_0b9f3c1e6a574f3e9d8a2f1c4b7e9a10');
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ type: 'invoice.paid', data: { invoice: { id: 'x' } } });
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it('keeps the webhook-id of a delivery whatever the attempt', () => {
    expect(webhookIdOf('0b9f3c1e-6a57-4f3e-9d8a-2f1c4b7e9a10')).toBe(webhookIdOf('0b9f3c1e-6a57-4f3e-9d8a-2f1c4b7e9a10'));
  });

  it('signs with the previous secret too while it is in its grace, so either verifies', () => {
    const [current, previous] = [newWebhookSecretForTest(), newWebhookSecretForTest()];
    const headers = signatureHeaders({ current, previous }, '0b9f3c1e-6a57-4f3e-9d8a-2f1c4b7e9a10', body, new Date());
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
  });
});
