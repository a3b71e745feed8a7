import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { deadLetterMessage } from '@polaris/shared/contracts';
import type { KafkaConnection } from '@polaris/shared/kafka';
import { CliError } from '../errors';
import { connectAdmin, operatorKafka, readRanges, watermarks } from './kafka-reader';

export const OPERATOR_SKIP_REASON = 'operator_skip';
const DEFAULT_DETAIL = 'skipped by an operator (polaris dead-letter skip)';

export interface SkipRequest {
  /** Brokers, TLS and SASL (KAFKA_* variables). */
  connection: KafkaConnection;
  partition: number;
  /** The offset to skip, a decimal string (Kafka offsets are int64). */
  offset: string;
  group: string;
  topic: string;
  dlq: string;
  /** Why: becomes the dead letter's polaris-dlq-detail. */
  detail?: string;
  /** How long reading the message may take. */
  readTimeoutMs?: number;
}

export interface SkipResult {
  group: string;
  topic: string;
  partition: number;
  /** The offset skipped. */
  offset: string;
  /** The group's committed offset now: offset + 1. */
  committed: string;
  /** Where the copy went. */
  dlq: { topic: string; partition: number; offset: string };
  reason: typeof OPERATOR_SKIP_REASON;
  detail: string;
  /** Size of the original value in bytes. */
  size: number;
}

function parseOffset(offset: string): bigint {
  if (!/^\d{1,19}$/.test(offset)) throw new CliError(`--offset must be a non-negative integer, got "${offset}"`);
  return BigInt(offset);
}

/** Refuses unless the group has no member: Kafka would refuse the offset change anyway, less clearly. */
async function requireNoMembers(admin: Admin, group: string): Promise<void> {
  const { groups } = await admin.describeGroups([group]);
  const description = groups[0];
  const members = description?.members ?? [];
  if (members.length === 0 && (description?.state === 'Empty' || description?.state === 'Dead' || description?.state === undefined)) return;
  const who = members.map((m) => `${m.clientId}@${m.clientHost.replace(/^\//, '')}`).join(', ');
  throw new CliError(
    `group ${group} has ${members.length} active member(s)${who ? ` (${who})` : ''}, state ${description?.state}: ` +
      'Kafka refuses offset changes while consumers of the group run. Stop the sink-workers or scale them to 0 first ' +
      '(kubectl -n polaris scale deployment/sink-worker --replicas=0, or docker compose stop sink-worker), run this again, then start them.',
  );
}

async function committedOffset(admin: Admin, group: string, topic: string, partition: number): Promise<bigint | undefined> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const raw = offsets?.partitions.find((p) => p.partition === partition)?.offset;
  return raw === undefined || raw === '-1' ? undefined : BigInt(raw);
}

async function requireCommittedAt(admin: Admin, group: string, topic: string, partition: number, offset: bigint): Promise<void> {
  const committed = await committedOffset(admin, group, topic, partition);
  if (committed === offset) return;
  const where = `group ${group} on ${topic} partition ${partition}`;
  if (committed === undefined) {
    throw new CliError(
      `${where} has no committed offset (so its consumers start where their reset policy says), not ${offset}: ` +
        'refusing (only the message the group is stuck at can be skipped)',
    );
  }
  const hint = committed === offset + 1n ? ' (already skipped? `polaris dead-letter list` shows operator skips)' : '';
  throw new CliError(
    `the committed offset of ${where} is ${committed}, not ${offset}: refusing, so that nothing else is skipped${hint}`,
  );
}

/**
 * Moves a consumer group past ONE message, after copying that message to the dead-letter topic.
 * For a partition the sink-worker cannot get past: the group must have no members, its committed
 * offset must be exactly `offset` (so nothing else is skipped), and the message must exist. The
 * copy keeps the original key, value bytes and headers, plus the dead-letter headers
 * (reason operator_skip, the operator's detail); it is acknowledged by every in-sync replica
 * before the offset moves to offset + 1. If the offset change fails after the copy was written,
 * a re-run writes a second copy: harmless, both name the same source.
 */
export async function skipMessage(req: SkipRequest, kafka: Kafka = operatorKafka(req.connection)): Promise<SkipResult> {
  const { group, topic, dlq } = req;
  const detail = req.detail?.trim() || DEFAULT_DETAIL;
  const { partition } = req;
  if (!Number.isInteger(partition) || partition < 0) throw new CliError(`--partition must be a non-negative integer, got "${partition}"`);
  const offset = parseOffset(req.offset);
  if (dlq === topic) throw new CliError(`the dead-letter topic must differ from the topic (${topic})`);

  const admin = await connectAdmin(kafka, req.connection.brokers);
  try {
    const marks = (await watermarks(admin, topic)).get(partition);
    if (!marks) throw new CliError(`topic ${topic} has no partition ${partition}`);
    await requireNoMembers(admin, group);
    await requireCommittedAt(admin, group, topic, partition, offset);
    if (offset < marks.low || offset >= marks.high) {
      const holds = marks.low === marks.high ? 'holds no message' : `holds offsets ${marks.low} to ${marks.high - 1n}`;
      throw new CliError(`no message at offset ${offset} of ${topic} partition ${partition}: the partition ${holds}`);
    }
    const [message] = await readRanges(kafka, topic, [{ partition, from: offset, to: offset + 1n }], req.readTimeoutMs);
    if (!message || message.offset !== offset) {
      throw new CliError(`no message at offset ${offset} of ${topic} partition ${partition} (compacted away, or a transaction marker)`);
    }

    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    let copy: { partition: number; offset: string };
    try {
      await producer.connect();
      const [meta] = await producer.send({
        topic: dlq,
        acks: -1,
        messages: [
          deadLetterMessage({
            topic,
            partition,
            offset: offset.toString(),
            key: message.key,
            value: message.value,
            headers: message.headers,
            reason: OPERATOR_SKIP_REASON,
            detail,
          }),
        ],
      });
      if (!meta?.baseOffset) throw new Error(`the broker did not say where ${dlq} stored the copy`);
      copy = { partition: meta.partition, offset: meta.baseOffset };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new CliError(`could not write the copy to ${dlq} (nothing was skipped): ${why}`);
    } finally {
      await producer.disconnect();
    }

    // Again, just before moving: a sink-worker may have started, or committed, since the checks.
    const moved = offset + 1n;
    try {
      await requireNoMembers(admin, group);
      await requireCommittedAt(admin, group, topic, partition, offset);
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition, offset: moved.toString() }] });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new CliError(
        `the copy is in ${dlq} partition ${copy.partition} offset ${copy.offset}, but the offset was not moved: ${why}`,
      );
    }
    const committed = await committedOffset(admin, group, topic, partition);
    if (committed !== moved) {
      throw new CliError(`set the offset of group ${group} on ${topic} partition ${partition} to ${moved}, but it reads back ${committed ?? 'none'}`);
    }
    return {
      group,
      topic,
      partition,
      offset: offset.toString(),
      committed: moved.toString(),
      dlq: { topic: dlq, ...copy },
      reason: OPERATOR_SKIP_REASON,
      detail,
      size: message.value?.length ?? 0,
    };
  } finally {
    await admin.disconnect();
  }
}
