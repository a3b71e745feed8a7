import type { Kafka } from 'kafkajs';
import type { KafkaConnection } from '@polaris/shared/kafka';
import { CliError } from '../errors';
import { formatTable } from '../format';
import { readDeadLetters, type DeadLetter } from './dead-letter';
import { connectAdmin, operatorKafka, watermarks } from './kafka-reader';

/**
 * One dead letter as an operator sees it in a list: where it came from and why, never its key,
 * value or other headers (they carry tenant data; `polaris dlq show` prints one whole).
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
  /** The organization the original message names, if any. */
  organizationId?: string | null;
  /** How many times `polaris dlq replay` re-sent it. */
  replays?: number;
}

function summary(l: DeadLetter): DeadLetterSummary {
  return {
    partition: l.partition,
    offset: l.offset.toString(),
    source: l.source,
    reason: l.reason,
    detail: l.detail,
    at: l.at,
    size: l.value?.length ?? 0,
    organizationId: l.organizationId ?? null,
    replays: l.replays.length,
  };
}

export interface ListRequest {
  connection: KafkaConnection;
  dlq: string;
  limit: number;
  reason?: string;
  organizationId?: string;
}

/**
 * The newest `limit` dead letters of the topic (matching the filters), newest first. Without a
 * filter only the newest `limit` messages of each partition are read; with one, whole partitions.
 */
export async function listDeadLetters(opts: ListRequest, kafka: Kafka = operatorKafka(opts.connection)): Promise<DeadLetterSummary[]> {
  if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new CliError(`--limit must be a positive integer, got "${opts.limit}"`);
  const topic = opts.dlq;
  const admin = await connectAdmin(kafka, opts.connection.brokers);
  let marks: Awaited<ReturnType<typeof watermarks>>;
  try {
    marks = await watermarks(admin, topic);
  } finally {
    await admin.disconnect();
  }
  const filtered = opts.reason !== undefined || opts.organizationId !== undefined;
  // The newest `limit` of each partition hold the newest `limit` overall (replay records aside: a few more is fine).
  const limit = BigInt(opts.limit);
  const ranges = [...marks].map(([partition, { low, high }]) => ({ partition, from: !filtered && high - limit > low ? high - limit : low, to: high }));
  const letters = (await readDeadLetters(kafka, topic, ranges)).filter(
    (l) => (opts.reason === undefined || l.reason === opts.reason) && (opts.organizationId === undefined || l.organizationId === opts.organizationId),
  );
  return letters
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
    ['AT', 'SOURCE', 'REASON', 'SIZE', 'DLQ', 'ORG', 'REPLAYED', 'DETAIL'],
    letters.map((l) => [l.at, l.source, l.reason, `${l.size} B`, `${l.partition}/${l.offset}`, l.organizationId ?? '-', l.replays ? `${l.replays}x` : '-', short(oneLine(l.detail))]),
  );
}

export function deadLettersJson(letters: DeadLetterSummary[]): string {
  return JSON.stringify(letters);
}
