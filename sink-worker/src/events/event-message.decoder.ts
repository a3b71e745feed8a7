import { eventMessageSchema, parseJsonExact, type EventMessage } from '@polaris/shared/contracts';

export type Decoded = { ok: true; message: EventMessage } | { ok: false; reason: 'invalid_json' | 'invalid_schema'; detail: string };

/**
 * Broker bytes → a validated message, or the reason it can never be stored. Producers validate
 * too, but the topic is a boundary: anything can be written to it.
 */
export function decodeEventMessage(value: Buffer | null): Decoded {
  if (!value) return { ok: false, reason: 'invalid_json', detail: 'empty message value' };
  let json: unknown;
  try {
    // Exact: a quantity the float would round is kept as written (the collector parsed it so).
    json = parseJsonExact(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'invalid_json', detail: err instanceof Error ? err.message : String(err) };
  }
  const parsed = eventMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: 'invalid_schema', detail: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data };
}
