import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';

export const MAIN_BROKERS = [process.env.KAFKA_BROKERS ?? '127.0.0.1:59092'];

export function kafkaAt(brokers: string[] = MAIN_BROKERS): Kafka {
  return new Kafka({ clientId: 'e2e', brokers, logLevel: logLevel.NOTHING });
}

async function withAdmin<T>(brokers: string[], work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaAt(brokers).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A topic of its own on the broker (auto-creation is off), so a test's backlog is only its own. */
export async function createPrivateTopic(label: string, partitions: number, brokers: string[] = MAIN_BROKERS): Promise<string> {
  const topic = `e2e.${label}.${randomUUID().slice(0, 8)}`;
  await withAdmin(brokers, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true }));
  return topic;
}

export async function deleteTopicAndGroup(topic: string, groupId: string, brokers: string[] = MAIN_BROKERS): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  });
}

/** Per partition: the offset after the last message (the high watermark). */
export function topicEnds(topic: string, brokers: string[] = MAIN_BROKERS): Promise<Map<number, bigint>> {
  return withAdmin(brokers, async (admin) => new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)])));
}

/** Per partition: the group's committed offset (0 when it has committed nothing there). */
export function committedOffsets(groupId: string, topic: string, brokers: string[] = MAIN_BROKERS): Promise<Map<number, bigint>> {
  return withAdmin(brokers, async (admin) => {
    const [forTopic] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((forTopic?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset === '-1' ? '0' : p.offset)]));
  });
}

/** True once `groupId` has committed at least `ends` on every partition of `topic`. */
export async function groupReached(groupId: string, topic: string, ends: Map<number, bigint>, brokers: string[] = MAIN_BROKERS): Promise<true | undefined> {
  const committed = await committedOffsets(groupId, topic, brokers);
  return [...ends].every(([partition, end]) => (committed.get(partition) ?? 0n) >= end) ? true : undefined;
}

export const sumOffsets = (offsets: Map<number, bigint>): number => Number([...offsets.values()].reduce((a, b) => a + b, 0n));
