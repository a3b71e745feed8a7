import { Partitioners, type IHeaders, type Kafka, type Message, type PartitionMetadata } from 'kafkajs';
import { DEAD_LETTER_REPLAY_HEADERS } from '@polaris/shared/contracts';
import type { KafkaConnection } from '@polaris/shared/kafka';
import { CliError } from '../errors';
import { formatDeadLetterId, readDeadLetters, type DeadLetter, type DeadLetterId } from './dead-letter';
import { rangesFor, selected, type DeadLetterSelection } from './dead-letter-selection';
import { connectAdmin, operatorKafka, watermarks } from './kafka-reader';

/**
 * Copies per produce request, bounded by count and bytes: one request is one batch per partition,
 * which must stay under the topic's max.message.bytes (1 MiB by default).
 */
const CHUNK_MESSAGES = 500;
const CHUNK_BYTES = 512 * 1024;

function chunks(letters: readonly DeadLetter[]): DeadLetter[][] {
  const out: DeadLetter[][] = [];
  let current: DeadLetter[] = [];
  let bytes = 0;
  for (const l of letters) {
    const size = (l.value?.length ?? 0) + (l.key?.length ?? 0);
    if (current.length > 0 && (current.length >= CHUNK_MESSAGES || bytes + size > CHUNK_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(l);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface ReplayRequest {
  connection: KafkaConnection;
  dlq: string;
  /** Where the copies go: the events topic. */
  topic: string;
  selection: DeadLetterSelection;
  /** Every letter of the topic (no selection): must be said explicitly. */
  all?: boolean;
  /** Replay letters already replayed too (by default they are skipped, and listed as such). */
  again?: boolean;
  /** Only say what would be replayed. */
  dryRun?: boolean;
  /** Who replays (user@host), recorded with each replay. */
  operator: string;
}

export interface ReplayResult {
  /** The letters re-sent (or that would be, with dryRun), with where each copy went. */
  replayed: Array<{ letter: DeadLetterId; reason: string; to?: { partition: number; offset: string } }>;
  /** Letters selected but not re-sent: replayed before (without `again`). */
  alreadyReplayed: DeadLetterId[];
}

/**
 * Re-sends dead letters to the events topic after a fix (a schema or sink change, ClickHouse
 * back), then records each replay in the dead-letter topic.
 *
 * Safe to run twice: a copy is the original message, byte for byte, under its original key, so
 * it keeps its event identity (organization, source, id) and lands on the partition of every other
 * copy of that event; the sink stores an identity once, so a second copy is dropped by its probe
 * (docs/ARCHITECTURE.md, "Idempotency"). The record is for people and for skipping: a letter
 * with a record is not replayed again unless asked (`again`). The copies are acknowledged by every
 * in-sync replica before the records are written, so a crash in between leaves letters without a
 * record, and the re-run sends them again: harmless, by the above.
 */
export async function replayDeadLetters(req: ReplayRequest, kafka: Kafka = operatorKafka(req.connection)): Promise<ReplayResult> {
  const { dlq, topic, selection } = req;
  if (dlq === topic) throw new CliError(`the dead-letter topic must differ from the topic replayed to (${topic})`);
  const narrowed = Boolean(selection.ids?.length) || selection.reason !== undefined || selection.organizationId !== undefined;
  if (!narrowed && !req.all) throw new CliError('say which dead letters to replay: <partition>/<offset>…, --reason, --org, or --all for every one');

  const admin = await connectAdmin(kafka, req.connection.brokers);
  let marks: Awaited<ReturnType<typeof watermarks>>;
  let partitions: PartitionMetadata[];
  try {
    marks = await watermarks(admin, dlq);
    await watermarks(admin, topic); // a missing target topic is a clear error before anything is read
    partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
  } finally {
    await admin.disconnect();
  }
  const letters = selected(await readDeadLetters(kafka, dlq, rangesFor(marks, selection, dlq)), selection, dlq);
  const todo = req.again ? letters : letters.filter((l) => l.replays.length === 0);
  const alreadyReplayed = req.again ? [] : letters.filter((l) => l.replays.length > 0).map(idOf);
  if (req.dryRun || todo.length === 0) return { replayed: todo.map((l) => ({ letter: idOf(l), reason: l.reason })), alreadyReplayed };

  // The collector's partitioner is kafkajs's default (murmur2 of the key): the same partition for the same key.
  const partitionOf = Partitioners.DefaultPartitioner();
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const replayed: ReplayResult['replayed'] = [];
  await producer.connect();
  try {
    for (const chunk of chunks(todo)) {
      const at = new Date().toISOString();
      const copies = chunk.map((l) => {
        const message: Message = { key: l.key, value: l.value, headers: copyHeaders(l, at, req.operator) };
        return { ...message, partition: l.key ? partitionOf({ topic, partitionMetadata: partitions, message }) : sourcePartition(l, topic, partitions.length) };
      });
      const offsets = await sendInOrder(producer, topic, copies);
      const records = chunk.map((l, j) => ({
        partition: l.partition,
        key: null,
        value: null,
        headers: {
          [DEAD_LETTER_REPLAY_HEADERS.replayOf]: formatDeadLetterId(l),
          [DEAD_LETTER_REPLAY_HEADERS.replayedTo]: `${topic}/${copies[j]?.partition}/${offsets[j]}`,
          [DEAD_LETTER_REPLAY_HEADERS.replayedAt]: at,
          [DEAD_LETTER_REPLAY_HEADERS.replayedBy]: req.operator,
        },
      }));
      await producer.send({ topic: dlq, acks: -1, messages: records });
      chunk.forEach((l, j) => replayed.push({ letter: idOf(l), reason: l.reason, to: { partition: copies[j]?.partition ?? -1, offset: offsets[j] ?? '?' } }));
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CliError(`replay stopped after ${replayed.length} of ${todo.length} dead letters (running it again is safe): ${why}`);
  } finally {
    await producer.disconnect();
  }
  return { replayed, alreadyReplayed };
}

const idOf = (l: DeadLetter): DeadLetterId => ({ partition: l.partition, offset: l.offset });

function copyHeaders(l: DeadLetter, at: string, operator: string): IHeaders {
  return {
    ...l.headers,
    [DEAD_LETTER_REPLAY_HEADERS.replayOf]: formatDeadLetterId(l),
    [DEAD_LETTER_REPLAY_HEADERS.replayedAt]: at,
    [DEAD_LETTER_REPLAY_HEADERS.replayedBy]: operator,
  };
}

/** A message without a key goes back to the partition it came from, when that is a partition of the target. */
function sourcePartition(l: DeadLetter, topic: string, count: number): number {
  const m = /^(.*)\/(\d+)\/\d+$/.exec(l.source);
  const partition = m && m[1] === topic ? Number(m[2]) : 0;
  return partition < count ? partition : 0;
}

/**
 * Sends messages with explicit partitions in one request and returns each one's offset: the
 * broker writes a partition's messages of one request as one batch, consecutive from its base offset.
 */
async function sendInOrder(producer: ReturnType<Kafka['producer']>, topic: string, messages: Array<Message & { partition: number }>): Promise<string[]> {
  const meta = await producer.send({ topic, acks: -1, messages });
  const next = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
  return messages.map((m) => {
    const offset = next.get(m.partition);
    if (offset === undefined || offset < 0n) return '?';
    next.set(m.partition, offset + 1n);
    return offset.toString();
  });
}
