import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_HEADERS } from '@polaris/shared/contracts';
import type { KafkaConnection } from '@polaris/shared/kafka';
import { CliError } from '../errors';
import { formatTable } from '../format';
import { connectAdmin, headerText, operatorKafka, readRanges, watermarks, type StoredMessage } from './kafka-reader';

/**
 * One dead letter as an operator sees it: where it came from and why, never its key, value or
 * other headers (they carry tenant data).
 */
export interface DeadLetterSummary {
  /** Where it is in the dead-letter topic. */
  partition: number;
  offset: string;
  /** topic/partition/offset of the original message. */
  source: string;
  reason: string;
  detail: string;
  /** When it was dead-lettered (ISO 8601). */
  at: string;
  /** Size of the original value in bytes. */
  size: number;
}

function summary(m: StoredMessage): DeadLetterSummary {
  return {
    partition: m.partition,
    offset: m.offset.toString(),
    source: headerText(m.headers, DEAD_LETTER_HEADERS.source) ?? '?',
    reason: headerText(m.headers, DEAD_LETTER_HEADERS.reason) ?? '?',
    detail: headerText(m.headers, DEAD_LETTER_HEADERS.detail) ?? '',
    // Dead letters written before polaris-dlq-at existed: the broker's timestamp.
    at: headerText(m.headers, DEAD_LETTER_HEADERS.at) ?? new Date(Number(m.timestamp)).toISOString(),
    size: m.value?.length ?? 0,
  };
}

/** The newest `limit` dead letters of the topic, newest first. */
export async function listDeadLetters(
  opts: { connection: KafkaConnection; dlq: string; limit: number },
  kafka: Kafka = operatorKafka(opts.connection),
): Promise<DeadLetterSummary[]> {
  if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new CliError(`--limit must be a positive integer, got "${opts.limit}"`);
  const topic = opts.dlq;
  const admin = await connectAdmin(kafka, opts.connection.brokers);
  let marks: Awaited<ReturnType<typeof watermarks>>;
  try {
    marks = await watermarks(admin, topic);
  } finally {
    await admin.disconnect();
  }
  // The newest `limit` of each partition hold the newest `limit` overall.
  const limit = BigInt(opts.limit);
  const ranges = [...marks].map(([partition, { low, high }]) => ({ partition, from: high - limit > low ? high - limit : low, to: high }));
  const messages = await readRanges(kafka, topic, ranges);
  return messages
    .map(summary)
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.partition - b.partition || Number(BigInt(b.offset) - BigInt(a.offset))))
    .slice(0, opts.limit);
}

const MAX_DETAIL_CHARS = 80;

export function deadLettersText(topic: string, letters: DeadLetterSummary[]): string {
  if (letters.length === 0) return `no dead letters in ${topic}`;
  const oneLine = (s: string) => s.replace(/\s+/g, ' ');
  const short = (s: string) => (s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS - 1)}…` : s);
  return formatTable(
    ['AT', 'SOURCE', 'REASON', 'SIZE', 'DLQ', 'DETAIL'],
    letters.map((l) => [l.at, l.source, l.reason, `${l.size} B`, `${l.partition}/${l.offset}`, short(oneLine(l.detail))]),
  );
}

export function deadLettersJson(letters: DeadLetterSummary[]): string {
  return JSON.stringify(letters);
}
