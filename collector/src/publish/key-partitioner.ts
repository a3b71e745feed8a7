import { Partitioners, type ICustomPartitioner } from 'kafkajs';
import { keyPartition, murmur2 } from '@polaris/shared/contracts';

// Kafka's murmur2 lives in the topic contract: the sink-worker computes the same partitions.
export { murmur2 };

/**
 * The partitioner of kafkajs's DefaultPartitioner (and of Kafka's Java client) for keyed messages,
 * with the fast murmur2 of the topic contract (keyPartition): partition = (murmur2(key) & 0x7fffffff) % partition count. Every
 * key lands where the DefaultPartitioner puts it, so all copies of an event share a partition
 * whichever collector version sent them (the sink-worker's dedup relies on it). Messages with an
 * explicit partition or without a key are left to the DefaultPartitioner itself.
 */
export const KeyHashPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args) => {
    const { partitionMetadata, message } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key === undefined || message.key === null) return fallback(args);
    return keyPartition(message.key, partitionMetadata.length);
  };
};
