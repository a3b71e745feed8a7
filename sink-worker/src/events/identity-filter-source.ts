import type { Admin, Kafka } from 'kafkajs';
import { eventIdentities, type ClickHouseClient } from '@polaris/clickhouse';
import type { IdentityFilterSource } from './partition-filters';

/**
 * The filters' source in the service: the topic's partition count from the broker, the stored
 * identity hashes from ClickHouse (event_identities_v2). The admin client connects on first use.
 */
export function identityFilterSource(kafka: Kafka, ch: ClickHouseClient, topic: string): IdentityFilterSource & { close(): Promise<void> } {
  let admin: Promise<Admin> | undefined;
  const connected = () =>
    (admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })().catch((err: unknown) => {
      admin = undefined;
      throw err;
    }));
  return {
    partitionCount: async () => {
      const { topics } = await (await connected()).fetchTopicMetadata({ topics: [topic] });
      const count = topics[0]?.partitions.length ?? 0;
      if (count < 1) throw new Error(`topic ${topic} has no partitions in the broker's metadata`);
      return count;
    },
    countHashes: (scope) => eventIdentities.countHashes(ch, scope),
    readHashes: (scope, onRow) => eventIdentities.readHashes(ch, scope, onRow),
    countOtherLayouts: (params) => eventIdentities.countOtherLayouts(ch, params),
    close: async () => {
      if (admin) await (await admin.catch(() => undefined))?.disconnect();
    },
  };
}
