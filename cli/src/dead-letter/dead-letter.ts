import type { IHeaders, Kafka } from 'kafkajs';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_REPLAY_HEADERS } from '@polaris/shared/contracts';
import { CliError } from '../errors';
import { headerText, readRanges, type OffsetRange, type StoredMessage } from './kafka-reader';

/**
 * One dead letter as the DLQ tools read it (list, show, replay): where it is, why it is there,
 * where it came from, and the original message exactly as it was produced.
 */
export interface DeadLetter {
  /** Where it is in the dead-letter topic. */
  partition: number;
  offset: bigint;
  reason: string;
  detail: string;
  /** `topic/partition/offset` of the original message. */
  source: string;
  /** When it was dead-lettered (ISO 8601). */
  at: string;
  /** The organization the original message names (its key, else its value), when it names one. */
  organizationId: string | undefined;
  /** The original key, value and headers (the dead-letter headers removed). */
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** Replays of this letter recorded in the dead-letter topic, oldest first. */
  replays: ReplayRecord[];
}

/**
 * The record `polaris dlq replay` leaves in the dead-letter topic for each letter it re-sent, in
 * the letter's own partition: a message with no value and the DEAD_LETTER_REPLAY_HEADERS. Kept
 * beside the letters (not a topic of its own) so it lives as long as they do and every reader of
 * the topic, on any machine, sees it.
 */
export interface ReplayRecord {
  /** The replay record's own place in the dead-letter topic. */
  partition: number;
  offset: bigint;
  /** `topic/partition/offset` the copy was sent to. */
  to: string;
  at: string;
  by: string;
}

/** `<partition>/<offset>` in the dead-letter topic: how an operator names one dead letter. */
export interface DeadLetterId {
  partition: number;
  offset: bigint;
}

export function parseDeadLetterId(text: string): DeadLetterId {
  const m = /^(\d{1,9})\/(\d{1,19})$/.exec(text.trim());
  if (!m) throw new CliError(`a dead letter is named <partition>/<offset> (as \`polaris dlq list\` prints it), got "${text}"`);
  return { partition: Number(m[1]), offset: BigInt(m[2] as string) };
}

export const formatDeadLetterId = (l: DeadLetterId): string => `${l.partition}/${l.offset}`;

const DLQ_HEADER_NAMES = new Set<string>([...Object.values(DEAD_LETTER_HEADERS), ...Object.values(DEAD_LETTER_REPLAY_HEADERS)]);

/** The original headers: without the ones the dead-lettering (or a replay) added. */
export function originalHeaders(headers: IHeaders): IHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !DLQ_HEADER_NAMES.has(name)));
}

/**
 * The organization of an events-topic message: the first part of its key (`["org","source","id"]`,
 * eventMessageKey), else the `namespace` of its JSON value. Undefined for bytes that name none.
 */
export function organizationOf(key: Buffer | null, value: Buffer | null): string | undefined {
  try {
    const parts: unknown = key ? JSON.parse(key.toString('utf8')) : undefined;
    if (Array.isArray(parts) && typeof parts[0] === 'string' && parts[0] !== '') return parts[0];
  } catch {
    // Not our key format: try the value.
  }
  try {
    const message: unknown = value ? JSON.parse(value.toString('utf8')) : undefined;
    const namespace = (message as { namespace?: unknown } | undefined)?.namespace;
    if (typeof namespace === 'string' && namespace !== '') return namespace;
  } catch {
    // Bytes that are not JSON name no organization.
  }
  return undefined;
}

function replayOf(m: StoredMessage): { letter: DeadLetterId; record: ReplayRecord } | undefined {
  const of = headerText(m.headers, DEAD_LETTER_REPLAY_HEADERS.replayOf);
  // A replayed copy that was dead-lettered again carries replay-of too, but also a reason: a letter.
  if (of === undefined || headerText(m.headers, DEAD_LETTER_HEADERS.reason) !== undefined) return undefined;
  let letter: DeadLetterId;
  try {
    letter = parseDeadLetterId(of);
  } catch {
    return undefined;
  }
  return {
    letter,
    record: {
      partition: m.partition,
      offset: m.offset,
      to: headerText(m.headers, DEAD_LETTER_REPLAY_HEADERS.replayedTo) ?? '?',
      at: headerText(m.headers, DEAD_LETTER_REPLAY_HEADERS.replayedAt) ?? new Date(Number(m.timestamp)).toISOString(),
      by: headerText(m.headers, DEAD_LETTER_REPLAY_HEADERS.replayedBy) ?? '?',
    },
  };
}

function letterOf(m: StoredMessage): DeadLetter {
  return {
    partition: m.partition,
    offset: m.offset,
    reason: headerText(m.headers, DEAD_LETTER_HEADERS.reason) ?? '?',
    detail: headerText(m.headers, DEAD_LETTER_HEADERS.detail) ?? '',
    source: headerText(m.headers, DEAD_LETTER_HEADERS.source) ?? '?',
    // Dead letters written before polaris-dlq-at existed: the broker's timestamp.
    at: headerText(m.headers, DEAD_LETTER_HEADERS.at) ?? new Date(Number(m.timestamp)).toISOString(),
    organizationId: organizationOf(m.key, m.value),
    key: m.key,
    value: m.value,
    headers: originalHeaders(m.headers),
    replays: [],
  };
}

/**
 * The dead letters stored in the given ranges of the dead-letter topic, each with the replays
 * recorded for it. Replay records always follow their letter in the same partition, so a range
 * read up to the partition's end sees every replay of the letters in it.
 */
export async function readDeadLetters(kafka: Kafka, dlq: string, ranges: readonly OffsetRange[]): Promise<DeadLetter[]> {
  const messages = await readRanges(kafka, dlq, ranges);
  const letters = new Map<string, DeadLetter>();
  const records: Array<{ letter: DeadLetterId; record: ReplayRecord }> = [];
  for (const m of messages) {
    const replay = replayOf(m);
    if (replay) records.push(replay);
    else letters.set(formatDeadLetterId(m), letterOf(m));
  }
  for (const { letter, record } of records) letters.get(formatDeadLetterId(letter))?.replays.push(record);
  return [...letters.values()];
}
