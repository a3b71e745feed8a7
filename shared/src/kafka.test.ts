import { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKafka } from './kafka';
import { createLogger } from './service/logger';

// No broker: creating producers and consumers connects to nothing.
const kafka = () => createKafka({ clientId: 'test', connection: { brokers: ['127.0.0.1:1'] }, logger: createLogger('test', 'silent') });

describe('createKafka', () => {
  afterEach(() => vi.restoreAllMocks());

  // A sink started before `polaris migrate` would otherwise create polaris.events.v1 with the
  // broker's default partitions (1 on Redpanda), and the collector a topic from a typo.
  it('gives every producer and consumer allowAutoTopicCreation: false, whatever the caller asks', () => {
    const producer = vi.spyOn(Kafka.prototype, 'producer');
    const consumer = vi.spyOn(Kafka.prototype, 'consumer');
    const client = kafka();
    client.producer();
    client.producer({ allowAutoTopicCreation: true, idempotent: true });
    client.consumer({ groupId: 'g' });
    client.consumer({ groupId: 'g', allowAutoTopicCreation: true });
    expect(producer.mock.calls.map(([config]) => config?.allowAutoTopicCreation)).toEqual([false, false]);
    expect(producer.mock.calls[1]?.[0]?.idempotent).toBe(true);
    expect(consumer.mock.calls.map(([config]) => [config?.groupId, config?.allowAutoTopicCreation])).toEqual([['g', false], ['g', false]]);
  });
});
