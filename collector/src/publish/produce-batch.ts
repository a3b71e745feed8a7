import type { Message } from 'kafkajs';

/**
 * Bytes a record adds to a produce request besides its key, value and header texts: the record's
 * varint lengths, attributes, timestamp and offset deltas (Kafka record format v2, at most ~21
 * bytes), plus per-header lengths. Counted high, so that a batch sized by this estimate never
 * exceeds what the broker measures.
 */
const RECORD_OVERHEAD_BYTES = 32;
const HEADER_OVERHEAD_BYTES = 10;

/** One event's broker message, with the bytes it takes in a produce request. */
export interface SizedMessage {
  message: Message;
  bytes: number;
}

export function sizedMessage(message: Message & { key: string; value: Buffer; headers: Record<string, string> }): SizedMessage {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(message.key) + message.value.length;
  for (const [k, v] of Object.entries(message.headers)) bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(k) + Buffer.byteLength(v);
  return { message, bytes };
}

/** What the publisher knows of one publish call (one client request) while it waits for the broker. */
export interface PendingRequest {
  messages: SizedMessage[];
  /** Index of the first message not yet taken into a batch. */
  next: number;
  /** Messages not yet acknowledged; the request is durable when it reaches 0. */
  unacked: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The part of one request that travels in one produce request. */
export interface Slice {
  request: PendingRequest;
  messages: SizedMessage[];
}

export const sliceBytes = (slices: Slice[]): number => slices.reduce((sum, s) => sum + s.messages.reduce((b, m) => b + m.bytes, 0), 0);
export const sliceCount = (slices: Slice[]): number => slices.reduce((sum, s) => sum + s.messages.length, 0);

/**
 * Takes the next produce request's worth of messages off the head of `queue`: at most `maxMessages`
 * and `maxBytes` (a single message larger than `maxBytes` still goes, alone). Requests are taken in
 * order; one that does not fit whole is cut between messages, its rest left at the head for the
 * next batch, so one large request can neither exceed the broker's limit nor hold back the others
 * for long. A request removed from `queue` is one whose every message is taken.
 */
export function takeBatch(queue: PendingRequest[], maxMessages: number, maxBytes: number): Slice[] {
  const batch: Slice[] = [];
  let count = 0;
  let bytes = 0;
  while (queue.length > 0 && count < maxMessages) {
    const request = queue[0] as PendingRequest;
    const taken: SizedMessage[] = [];
    while (request.next < request.messages.length && count < maxMessages) {
      const m = request.messages[request.next] as SizedMessage;
      if (count > 0 && bytes + m.bytes > maxBytes) break;
      taken.push(m);
      request.next++;
      count++;
      bytes += m.bytes;
    }
    if (taken.length > 0) batch.push({ request, messages: taken });
    if (request.next < request.messages.length) break;
    queue.shift();
  }
  return batch;
}

/** Two halves by message count (cutting a slice in two where the middle falls inside it). */
export function halves(slices: Slice[]): [Slice[], Slice[]] {
  let left = Math.ceil(sliceCount(slices) / 2);
  const first: Slice[] = [];
  const second: Slice[] = [];
  for (const s of slices) {
    if (left >= s.messages.length) {
      first.push(s);
      left -= s.messages.length;
    } else if (left > 0) {
      first.push({ request: s.request, messages: s.messages.slice(0, left) });
      second.push({ request: s.request, messages: s.messages.slice(left) });
      left = 0;
    } else {
      second.push(s);
    }
  }
  return [first, second];
}

/**
 * The broker refused the produce request for its size: a record batch (one partition's messages)
 * over the topic's max.message.bytes (MESSAGE_TOO_LARGE), or over the segment size
 * (RECORD_LIST_TOO_LARGE). kafkajs does not retry these; the type may sit on a wrapping error.
 */
export function isTooLarge(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') return true;
    const inner = e as { errors?: unknown[]; originalError?: unknown; cause?: unknown };
    if (inner.errors?.some(isTooLarge)) return true;
    e = inner.originalError ?? inner.cause;
  }
  return false;
}
