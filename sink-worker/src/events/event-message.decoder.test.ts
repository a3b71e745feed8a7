import { describe, expect, it } from 'vitest';
import { eventMessageSchema } from '@polaris/shared/contracts';
import { decodeEventMessage } from './event-message.decoder';

const ns = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const good = { v: 1, namespace: ns, receivedAt: 1_767_323_045_000, event: { id: 'e-1', source: 'svc', type: 't', subject: 's', timeMs: 1_767_323_044_000, data: { tokens: 12, model: 'm' } } };

/** Variations of a good message, each one field changed: what the hand-written checks must judge as the schema does. */
function variants(): unknown[] {
  const values: unknown[] = [undefined, null, '', 'x', 0, -1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, 4_102_444_800_000, [], {}, { a: 1 }, true, '\ud800', 'a\ud800b'];
  const out: unknown[] = [good, [], 'text', null, { ...good, extra: 1 }, { ...good, event: { ...good.event, extra: 'x' } }];
  for (const key of ['v', 'namespace', 'receivedAt', 'event'] as const) for (const value of values) out.push({ ...good, [key]: value });
  for (const key of ['id', 'source', 'type', 'subject', 'timeMs', 'data'] as const) {
    for (const value of values) out.push({ ...good, event: { ...good.event, [key]: value } });
  }
  out.push({ ...good, event: { ...good.event, data: { deep: JSON.parse('['.repeat(200) + ']'.repeat(200)) } } });
  out.push({ ...good, event: { ...good.event, data: { big: 'x'.repeat(70 * 1024) } } });
  out.push({ ...good, event: { ...good.event, data: { ['k\udc00']: 1 } } });
  return out;
}

describe('decodeEventMessage', () => {
  it('gives every message the verdict and the value the topic contract (eventMessageSchema) gives it', () => {
    for (const message of variants()) {
      const text = JSON.stringify(message) ?? 'null';
      const decoded = decodeEventMessage(Buffer.from(text));
      const schema = eventMessageSchema.safeParse(JSON.parse(text));
      expect(decoded.ok, text.slice(0, 200)).toBe(schema.success);
      if (decoded.ok && schema.success) expect(decoded.message).toEqual(schema.data);
      if (!decoded.ok && !schema.success) expect(decoded.detail).toBe(`${schema.error.issues[0]?.path.join('.')}: ${schema.error.issues[0]?.message}`);
    }
  });

  it('tells bytes that are not JSON from JSON that is not a message', () => {
    expect(decodeEventMessage(null)).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(decodeEventMessage(Buffer.from('{'))).toMatchObject({ ok: false, reason: 'invalid_json' });
    expect(decodeEventMessage(Buffer.from('{"v":2}'))).toMatchObject({ ok: false, reason: 'invalid_schema' });
  });
});
