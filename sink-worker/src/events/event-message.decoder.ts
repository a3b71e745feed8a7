import { eventMessageSchema, isWellFormedUnicode, MAX_EVENT_TIME_MS, parseJsonExact, storableEventData, type EventMessage } from '@polaris/shared/contracts';

/**
 * `dataJson`: `event.data` serialized as the row stores it, when the check already made it (the
 * usual path); undefined after the schema's own parse.
 */
export type Decoded = { ok: true; message: EventMessage; dataJson?: string } | { ok: false; reason: 'invalid_json' | 'invalid_schema'; detail: string };

/**
 * Broker bytes → a validated message, or the reason it can never be stored. Producers validate
 * too, but the topic is a boundary: anything can be written to it. The one validation of the
 * sink: the rows it builds from a message are not checked again at insert.
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
  const valid = validMessage(json);
  if (valid) return { ok: true, ...valid };
  const parsed = eventMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: 'invalid_schema', detail: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * eventMessageSchema's checks written out by hand, for the messages that pass them: zod cost
 * ~2.6 µs a message on top of checkStorableEvent, a fifth of the sink's decoding (bench:sink,
 * --cpu-prof). Anything else (undefined) goes through the schema itself, so refusals and their
 * wording stay the contract's; event-message.decoder.test.ts holds the two to the same verdicts.
 * Returns only the schema's fields, as its parse does.
 */
function validMessage(json: unknown): { message: EventMessage; dataJson: string } | undefined {
  if (!isObject(json) || json.v !== 1) return undefined;
  const { namespace, receivedAt, event } = json;
  if (!isText(namespace) || !isWellFormedUnicode(namespace) || !isCount(receivedAt) || receivedAt >= MAX_EVENT_TIME_MS || !isObject(event)) return undefined;
  const { id, source, type, subject, timeMs, data } = event;
  if (!isText(id) || !isText(source) || !isText(type) || !isText(subject) || !isCount(timeMs) || !isObject(data)) return undefined;
  const normalized = { id, source, type, subject, timeMs, data };
  const checked = storableEventData(normalized);
  if ('problem' in checked) return undefined;
  return { message: { v: 1, namespace, receivedAt, event: normalized }, dataJson: checked.dataJson };
}
