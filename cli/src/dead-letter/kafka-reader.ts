import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import type { KafkaConnection } from '@polaris/shared/kafka';
import { CliError } from '../errors';

/** A kafkajs client for the operator commands: no kafkajs console logs, fails fast when no broker answers. */
export function operatorKafka({ brokers, ssl, sasl }: KafkaConnection): Kafka {
  return new Kafka({
    clientId: 'polaris-cli',
    brokers,
    ssl,
    sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3 },
  });
}

export interface StoredMessage {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** Broker timestamp, epoch ms as a string (kafkajs's form). */
  timestamp: string;
}

/** Offsets [from, to) of one partition. */
export interface OffsetRange {
  partition: number;
  from: bigint;
  to: bigint;
}

/** Whether a kafkajs error, or one it wraps (retries exceeded), is a broker error of this type. */
function hasErrorType(err: unknown, type: string): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ((e as { type?: string }).type === type) return true;
  }
  return false;
}

/** An admin client, connected; a broker that does not answer is a plain message, not a stack trace. */
export async function connectAdmin(kafka: Kafka, brokers: readonly string[]): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new CliError(`cannot reach Kafka at ${brokers.join(',')} (KAFKA_BROKERS): ${err instanceof Error ? err.message : String(err)}`);
  }
  return admin;
}

/** Low (first kept) and high (next to be written) offsets of each partition of a topic. */
export async function watermarks(admin: Admin, topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
  let offsets: Awaited<ReturnType<Admin['fetchTopicOffsets']>>;
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } catch (err) {
    if (hasErrorType(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw new CliError(`topic ${topic} does not exist`);
    throw err;
  }
  return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
}

/**
 * Reads exactly the given offset ranges of a topic. kafkajs has no manual partition assignment, so
 * this joins a throwaway consumer group (never committed, deleted afterwards), seeks each partition
 * to the start of its range, and keeps only batches fetched from where it is waiting: a fetch
 * started before the seek took effect is ignored. A range is done once a batch reaches its end, so
 * an offset missing inside it (compacted away, a transaction marker) is simply not returned.
 */
export async function readRanges(kafka: Kafka, topic: string, ranges: readonly OffsetRange[], timeoutMs = 30_000): Promise<StoredMessage[]> {
  const pending = new Map(ranges.filter((r) => r.from < r.to).map((r) => [r.partition, { ...r, next: r.from }]));
  if (pending.size === 0) return [];
  const groupId = `polaris-cli-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  const found: StoredMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        const left = [...pending.values()].map((r) => `partition ${r.partition} at ${r.next} of [${r.from}, ${r.to})`);
        reject(new CliError(`could not read ${topic} within ${timeoutMs} ms (${left.join('; ')})`));
      }, timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const range = pending.get(batch.partition);
            // Where this fetch started: kafkajs sets it on every Batch, its typings omit it.
            const fetchedAt = BigInt((batch as typeof batch & { fetchedOffset: string }).fetchedOffset);
            if (!range || fetchedAt > range.next || fetchedAt < range.from) return;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset >= range.from && offset < range.to && offset >= range.next) {
                found.push({ partition: batch.partition, offset, key: m.key, value: m.value, headers: m.headers ?? {}, timestamp: m.timestamp });
              }
            }
            const last = BigInt(batch.lastOffset());
            if (last + 1n > range.next) range.next = last + 1n;
            if (range.next >= range.to) pending.delete(batch.partition);
            if (pending.size === 0) resolve();
          },
        })
        .catch(reject);
      for (const r of pending.values()) consumer.seek({ topic, partition: r.partition, offset: r.from.toString() });
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    const admin = kafka.admin();
    // Best effort: an empty group with no offsets expires on its own anyway.
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
  return found.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}

/** A header value as text (kafkajs gives Buffers; an array when the header repeats: the last wins). */
export function headerText(headers: IHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return value === undefined ? undefined : value.toString();
}
