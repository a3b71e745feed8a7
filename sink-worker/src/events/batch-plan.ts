import { toClickHouseDateTime, type EventsRawRow } from '@polaris/clickhouse';
import { eventIdentityKey } from '@polaris/shared/contracts';
import { beyondDedupWindow, payloadFingerprint, type DedupWindow } from './dedup-window';
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
  /** The message the row came from, for the dead-letter topic if the store refuses the row. */
  message: RawMessage;
  /** When the collector received this copy, epoch ms: where the batch's dedup window starts. */
  receivedAtMs: number;
  /** The topic partition the message was read from (its filter, its dead letter's source). */
  partition: number;
}

export interface BatchPlan {
  /** Valid events, first copy of each identity within the batch, in offset order. */
  candidates: Candidate[];
  deadLetters: DeadLetter[];
  /** Copies of an identity already seen earlier in the same batch, with the same payload. */
  duplicatesInBatch: number;
  /** Copies of an identity seen earlier in the batch with another payload (also dead letters). */
  conflictsInBatch: number;
}

export interface PlanOptions {
  /** When set, events too old for the window to vouch for are dead letters (`outside_dedup_window`). */
  dedup?: DedupWindow;
  /** The topic partition the messages were read from; 0 when unset (tests, benches). */
  partition?: number;
}

/**
 * A plan that later batches of the same partition are added to (the sink accumulates several
 * broker batches per flush): `seen` carries the first copy of each identity across them, so a
 * copy in the next broker batch is a duplicate within the flush, exactly as within one batch.
 */
export interface OpenPlan extends BatchPlan {
  seen: Map<string, Candidate>;
}

export const openPlan = (): OpenPlan => ({ candidates: [], deadLetters: [], duplicatesInBatch: 0, conflictsInBatch: 0, seen: new Map() });

export const CONFLICTING_DUPLICATE = 'conflicting_duplicate';
export const OUTSIDE_DEDUP_WINDOW = 'outside_dedup_window';

/** The dead letter of a copy whose identity is stored (or planned) with another payload: the first copy is kept. */
export function conflictingDuplicate(message: RawMessage, c: Pick<Candidate, 'row'>, storedFingerprint: string): DeadLetter {
  return {
    message,
    reason: CONFLICTING_DUPLICATE,
    detail: `event (source ${JSON.stringify(c.row.source)}, id ${JSON.stringify(c.row.id)}) is already stored with another payload (type, subject, time or data; fingerprint ${storedFingerprint}, this copy ${c.row.payload_fingerprint ?? '?'}); the first copy is kept`,
  };
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
export function planBatch(messages: RawMessage[], opts: PlanOptions = {}): BatchPlan {
  const { candidates, deadLetters, duplicatesInBatch, conflictsInBatch } = planInto(openPlan(), messages, opts);
  return { candidates, deadLetters, duplicatesInBatch, conflictsInBatch };
}

/** Adds one more broker batch of the plan's partition to `plan` (see OpenPlan); returns it. */
export function planInto(plan: OpenPlan, messages: RawMessage[], opts: PlanOptions = {}): OpenPlan {
  const { candidates, deadLetters, seen } = plan;
  for (const message of messages) {
    let outcome: ReturnType<typeof planOne>;
    try {
      outcome = planOne(message, opts);
    } catch (err) {
      deadLetters.push({ message, reason: 'handler_error', detail: describeError(err) });
      continue;
    }
    if ('deadLetter' in outcome) {
      deadLetters.push(outcome.deadLetter);
      continue;
    }
    // Marked as seen only once its row is built: a copy of a message that failed is no duplicate.
    const first = seen.get(outcome.candidate.key);
    if (first) {
      const firstPrint = first.row.payload_fingerprint ?? '0';
      if (firstPrint === outcome.candidate.row.payload_fingerprint) plan.duplicatesInBatch++;
      else {
        plan.conflictsInBatch++;
        deadLetters.push(conflictingDuplicate(message, outcome.candidate, firstPrint));
      }
      continue;
    }
    seen.set(outcome.candidate.key, outcome.candidate);
    candidates.push(outcome.candidate);
  }
  return plan;
}

function planOne(message: RawMessage, opts: PlanOptions): { candidate: Candidate } | { deadLetter: DeadLetter } {
  const decoded = decodeEventMessage(message.value);
  if (!decoded.ok) return { deadLetter: { message, reason: decoded.reason, detail: decoded.detail } };
  const { namespace, event, receivedAt } = decoded.message;
  if (exceedsDepth(event.data, MAX_SERIALIZABLE_DEPTH)) {
    return { deadLetter: { message, reason: 'invalid_schema', detail: `event.data: nested deeper than ${MAX_SERIALIZABLE_DEPTH} levels` } };
  }
  if (opts.dedup && beyondDedupWindow(event.timeMs, receivedAt, opts.dedup)) {
    return {
      deadLetter: {
        message,
        reason: OUTSIDE_DEDUP_WINDOW,
        detail: `event.time is more than the dedup window (${opts.dedup.windowMs / 86_400_000} days) before its receipt: a copy stored earlier could not be ruled out, so it is not stored`,
      },
    };
  }
  const key = eventIdentityKey(namespace, event.source, event.id);
  const data = decoded.dataJson ?? JSON.stringify(event.data);
  return {
    candidate: {
      key,
      message,
      receivedAtMs: receivedAt,
      partition: opts.partition ?? 0,
      row: {
        namespace,
        id: event.id,
        source: event.source,
        type: event.type,
        subject: event.subject,
        time: toClickHouseDateTime(event.timeMs),
        time_ms: event.timeMs,
        data,
        ingested_at: toClickHouseDateTime(receivedAt),
        // The broker offset: deterministic across replays, so ReplacingMergeTree keeps the same row.
        ingest_seq: message.offset,
        payload_fingerprint: payloadFingerprint(event.type, event.subject, event.timeMs, data),
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
