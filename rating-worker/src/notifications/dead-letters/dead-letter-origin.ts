import type { IHeaders } from 'kafkajs';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_REPLAY_HEADERS } from '@polaris/shared/contracts';

// What the watcher reads of one message of the dead-letter topic (shared/src/contracts/dead-letter.ts):
// whether it is a dead letter at all, why it is there, when, and whose it is.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DeadLetterMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  /** The broker's timestamp, epoch ms as text (kafkajs). */
  timestamp: string;
}

export type DeadLetterOrigin =
  /** `polaris dlq replay` left this record beside a letter it re-sent: not a dead letter. */
  | { kind: 'replay_record' }
  | { kind: 'letter'; reason: string; atMs: number; organizationId: string | undefined };

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/**
 * The organization a dead letter belongs to, or undefined when its bytes do not say so in a way
 * to trust: the key's first part (`["org","source","id"]`, eventMessageKey), set by the collector
 * from the producer's credential, and the value's `namespace` when the value is JSON. Both must
 * be the same UUID when both are there: a letter whose key and value disagree is nobody's.
 */
export function organizationOf(key: Buffer | null, value: Buffer | null): string | undefined {
  const fromKey = key ? keyOrganization(key) : undefined;
  if (key && fromKey === undefined) return undefined;
  const fromValue = value ? valueNamespace(value) : undefined;
  if (fromKey !== undefined && fromValue !== undefined && fromValue.toLowerCase() !== fromKey) return undefined;
  const org = fromKey ?? fromValue;
  return org !== undefined && UUID.test(org) ? org.toLowerCase() : undefined;
}

function keyOrganization(key: Buffer): string | undefined {
  try {
    const parts: unknown = JSON.parse(key.toString('utf8'));
    if (Array.isArray(parts) && parts.length === 3 && parts.every((p) => typeof p === 'string') && UUID.test(parts[0] as string)) {
      return (parts[0] as string).toLowerCase();
    }
  } catch {
    // Not our key format.
  }
  return undefined;
}

function valueNamespace(value: Buffer): string | undefined {
  try {
    const message: unknown = JSON.parse(value.toString('utf8'));
    const namespace = typeof message === 'object' && message !== null ? (message as { namespace?: unknown }).namespace : undefined;
    return typeof namespace === 'string' ? namespace : undefined;
  } catch {
    // A value that is not JSON (invalid_json letters) names no organization; the key may.
    return undefined;
  }
}

/**
 * A message of the dead-letter topic as the watcher counts it. Its time is `polaris-dlq-at` (when
 * the sink dead-lettered it), else the broker's timestamp (letters from before that header).
 */
export function originOf(m: DeadLetterMessage): DeadLetterOrigin {
  const reason = headerText(m.headers, DEAD_LETTER_HEADERS.reason);
  // A replayed copy dead-lettered again keeps replay-of but has a reason: that one is a letter.
  if (reason === undefined && headerText(m.headers, DEAD_LETTER_REPLAY_HEADERS.replayOf) !== undefined) return { kind: 'replay_record' };
  const at = Date.parse(headerText(m.headers, DEAD_LETTER_HEADERS.at) ?? '');
  return {
    kind: 'letter',
    reason: reason ?? 'unknown',
    atMs: Number.isFinite(at) ? at : Number(m.timestamp),
    organizationId: organizationOf(m.key, m.value),
  };
}
