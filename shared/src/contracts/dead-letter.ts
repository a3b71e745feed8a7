/**
 * The dead-letter topic contract. A dead letter carries the original message bytes and key
 * unchanged, the original headers, and these headers saying why and where it came from. Written
 * by the sink-worker and by `polaris dead-letter skip`; read by operators and the DLQ tools.
 */
export const DEAD_LETTER_HEADERS = {
  /** A stable code: invalid_json, invalid_schema, invalid_event, store_rejected, handler_error, operator_skip. */
  reason: 'polaris-dlq-reason',
  /** Human-readable detail (the validation issue, the ClickHouse error), at most 1,000 characters. */
  detail: 'polaris-dlq-detail',
  /** `topic/partition/offset` of the original message. */
  source: 'polaris-dlq-source',
  /** When it was dead-lettered, ISO 8601. */
  at: 'polaris-dlq-at',
} as const;

/**
 * Headers of a replay (`polaris dlq replay`). On the copy sent back to the events topic:
 * `replayOf`, `replayedAt`, `replayedBy` (the sink ignores them; a copy dead-lettered again keeps
 * them, so its new dead letter says which one it replays). On the replay record left in the
 * dead-letter topic, in the letter's partition: a message with no value and all four, and no
 * `polaris-dlq-reason` (that is how a record differs from a dead letter).
 */
export const DEAD_LETTER_REPLAY_HEADERS = {
  /** `<partition>/<offset>` of the dead letter in the dead-letter topic. */
  replayOf: 'polaris-dlq-replay-of',
  /** `topic/partition/offset` the copy was written to (on the record only). */
  replayedTo: 'polaris-dlq-replayed-to',
  /** When, ISO 8601. */
  replayedAt: 'polaris-dlq-replayed-at',
  /** The operator (user@host) who ran the replay. */
  replayedBy: 'polaris-dlq-replayed-by',
} as const;

const MAX_DETAIL_CHARS = 1_000;

type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface DeadLetterInput {
  topic: string;
  partition: number;
  offset: string;
  key?: Buffer | string | null;
  value: Buffer | null;
  headers?: Headers;
  reason: string;
  detail: string;
}

/** The message to send to the dead-letter topic for one original message. */
export function deadLetterMessage(d: DeadLetterInput, now = new Date()): { key?: Buffer | string | null; value: Buffer | null; headers: Headers } {
  return {
    key: d.key ?? null,
    value: d.value,
    headers: {
      ...d.headers,
      [DEAD_LETTER_HEADERS.reason]: d.reason,
      [DEAD_LETTER_HEADERS.detail]: d.detail.slice(0, MAX_DETAIL_CHARS),
      [DEAD_LETTER_HEADERS.source]: `${d.topic}/${d.partition}/${d.offset}`,
      [DEAD_LETTER_HEADERS.at]: now.toISOString(),
    },
  };
}
