import { Kafka, logLevel, type ConsumerConfig, type LogEntry, type ProducerConfig } from 'kafkajs';
import type { Logger } from './service/logger';
import type { KafkaConnection } from './kafka-config';

export type { Kafka };
export { kafkaConnection, withKafkaConfig, type KafkaConfig, type KafkaConnection } from './kafka-config';

const levelNames: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Topics are created by `polaris migrate` alone, with their partition counts. kafkajs asks the
 * broker to create a topic it does not know by default (producer and consumer alike), so a sink
 * started before migrate would create polaris.events.v1 with the broker's default partitions
 * (1 on Redpanda) and a typo in EVENTS_TOPIC would create a topic nobody reads.
 */
class NoAutoTopicKafka extends Kafka {
  override producer(config?: ProducerConfig) {
    return super.producer({ ...config, allowAutoTopicCreation: false });
  }

  override consumer(config: ConsumerConfig) {
    return super.consumer({ ...config, allowAutoTopicCreation: false });
  }
}

/**
 * A kafkajs client that logs through pino instead of its own console logger, connects as
 * `connection` says (TLS, SASL: `kafkaConnection(config)`), and never creates topics.
 */
export function createKafka(opts: { clientId: string; connection: KafkaConnection; logger: Logger }): Kafka {
  const log = opts.logger.child({ component: 'kafkajs' });
  return new NoAutoTopicKafka({
    clientId: opts.clientId,
    ...opts.connection,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[levelNames[level] ?? 'info'](rest, message);
      },
  });
}

/** Readiness: the broker answers a metadata request. */
export async function pingKafka(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect();
  }
}
