import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConnection } from '@polaris/shared/kafka';
import type { TopicSpec } from '@polaris/shared/contracts';

export interface KafkaTopicsOptions {
  /** Brokers, TLS and SASL, as the services connect (KAFKA_* variables). */
  connection: KafkaConnection;
  replicationFactor: number;
  topics: readonly TopicSpec[];
  log: (line: string) => void;
}

/** Creates the topics that are missing; reports (does not change) existing ones. */
export async function ensureTopics(options: KafkaTopicsOptions): Promise<{ created: string[] }> {
  const { brokers, ssl, sasl } = options.connection;
  const admin = new Kafka({ clientId: 'polaris-migrate', brokers, ssl, sasl, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = options.topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      // Resolves false instead of failing when a concurrent run created a topic first.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: options.replicationFactor })),
      });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: options.topics.map((t) => t.topic) });
    for (const spec of options.topics) {
      const partitions = metadata.topics.find((t) => t.name === spec.topic)?.partitions.length ?? 0;
      const verb = missing.includes(spec) ? 'created' : 'exists';
      const mismatch = partitions === spec.partitions ? '' : ` (warning: expected ${spec.partitions})`;
      options.log(`kafka: ${verb} ${spec.topic} with ${partitions} partitions${mismatch}`);
    }
    return { created: missing.map((t) => t.topic) };
  } finally {
    await admin.disconnect();
  }
}
