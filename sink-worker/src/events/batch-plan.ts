import { decodeEventMessage } from './event-message.decoder';
import { identityKey, toClickHouseDateTime, type EventRow } from './events-raw.writer';

export interface RawMessage {
  offset: string;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface DeadLetter {
  message: RawMessage;
  reason: string;
  detail: string;
}

export interface BatchPlan {
  /** Valid events, first copy of each identity within the batch, in offset order. */
  candidates: Array<{ key: string; row: EventRow }>;
  deadLetters: DeadLetter[];
  /** Copies of an identity already seen earlier in the same batch. */
  duplicatesInBatch: number;
}

/**
 * Sorts one partition's batch into rows to store and messages that can never be stored. Pure:
 * the consumer then drops candidates already in ClickHouse and writes the rest.
 */
export function planBatch(messages: RawMessage[]): BatchPlan {
  const candidates: BatchPlan['candidates'] = [];
  const deadLetters: DeadLetter[] = [];
  const seen = new Set<string>();
  let duplicatesInBatch = 0;
  for (const message of messages) {
    const decoded = decodeEventMessage(message.value);
    if (!decoded.ok) {
      deadLetters.push({ message, reason: decoded.reason, detail: decoded.detail });
      continue;
    }
    const { namespace, event, receivedAt } = decoded.message;
    const key = identityKey({ namespace, source: event.source, id: event.id });
    if (seen.has(key)) {
      duplicatesInBatch++;
      continue;
    }
    seen.add(key);
    candidates.push({
      key,
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
    });
  }
  return { candidates, deadLetters, duplicatesInBatch };
}
