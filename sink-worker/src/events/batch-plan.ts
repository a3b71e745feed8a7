import { toClickHouseDateTime, type EventsRawRow } from '@polaris/clickhouse';
import { eventIdentityKey } from '@polaris/shared/contracts';
import { decodeEventMessage } from './event-message.decoder';

export interface RawMessage {
  offset: string;
  key?: Buffer | string | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface DeadLetter {
  message: RawMessage;
  /** A stable code from the dead-letter contract (`DEAD_LETTER_HEADERS.reason`). */
  reason: string;
  detail: string;
}

export interface Candidate {
  key: string;
  row: EventsRawRow;
  /** The event's data as parsed exactly, for the meters that stamp the row before it is stored. */
  data: unknown;
  /** The message the row came from, for the dead-letter topic if the store refuses the row. */
  message: RawMessage;
}

export interface BatchPlan {
  /** Valid events, first copy of each identity within the batch, in offset order. */
  candidates: Candidate[];
  deadLetters: DeadLetter[];
  /** Copies of an identity already seen earlier in the same batch. */
  duplicatesInBatch: number;
}

/**
 * How deep `data` may nest before the sink refuses to serialize it. Not a product limit (the
 * topic contract has its own, much lower); a guard, so that a message nobody validated cannot
 * overflow the stack of JSON.stringify (4,109 levels did).
 */
export const MAX_SERIALIZABLE_DEPTH = 1_000;

/**
 * Sorts one partition's batch into rows to store and messages that can never be stored. Pure:
 * the consumer then drops candidates already in ClickHouse and writes the rest.
 *
 * Nothing one message holds can make this throw: anything that goes wrong while handling one
 * message (a decoder bug, an overflow) makes that message a dead letter (`handler_error`), and
 * the rest of the batch goes on.
 */
export function planBatch(messages: RawMessage[]): BatchPlan {
  const candidates: Candidate[] = [];
  const deadLetters: DeadLetter[] = [];
  const seen = new Set<string>();
  let duplicatesInBatch = 0;
  for (const message of messages) {
    let outcome: ReturnType<typeof planOne>;
    try {
      outcome = planOne(message);
    } catch (err) {
      deadLetters.push({ message, reason: 'handler_error', detail: describeError(err) });
      continue;
    }
    if ('deadLetter' in outcome) {
      deadLetters.push(outcome.deadLetter);
      continue;
    }
    // Marked as seen only once its row is built: a copy of a message that failed is no duplicate.
    if (seen.has(outcome.candidate.key)) {
      duplicatesInBatch++;
      continue;
    }
    seen.add(outcome.candidate.key);
    candidates.push(outcome.candidate);
  }
  return { candidates, deadLetters, duplicatesInBatch };
}

function planOne(message: RawMessage): { candidate: Candidate } | { deadLetter: DeadLetter } {
  const decoded = decodeEventMessage(message.value);
  if (!decoded.ok) return { deadLetter: { message, reason: decoded.reason, detail: decoded.detail } };
  const { namespace, event, receivedAt } = decoded.message;
  if (exceedsDepth(event.data, MAX_SERIALIZABLE_DEPTH)) {
    return { deadLetter: { message, reason: 'invalid_schema', detail: `event.data: nested deeper than ${MAX_SERIALIZABLE_DEPTH} levels` } };
  }
  const key = eventIdentityKey(namespace, event.source, event.id);
  return {
    candidate: {
      key,
      message,
      data: event.data,
      row: {
        namespace,
        id: event.id,
        source: event.source,
        type: event.type,
        subject: event.subject,
        time: toClickHouseDateTime(event.timeMs),
        time_ms: event.timeMs,
        data: JSON.stringify(event.data),
        ingested_at: toClickHouseDateTime(receivedAt),
        // The broker offset: deterministic across replays, so ReplacingMergeTree keeps the same row.
        ingest_seq: message.offset,
      },
    },
  };
}

/** Whether `value` nests objects/arrays deeper than `max`. Iterative: it cannot overflow itself. */
export function exceedsDepth(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
