import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@polaris/shared/service';
import { createKafka, kafkaConnection, pingKafka, withKafkaConfig, type KafkaConnection } from '@polaris/shared/kafka';
import { loadConfig } from '@polaris/shared/config';
import { z } from 'zod';
import { loadOperatorConfig } from '../config';
import { startSecureKafkaBroker, type SecureKafkaBroker } from '../test-support/secure-kafka-broker';
import { ensureTopics } from './kafka-topics';

// Issue 13: the Kafka clients took no TLS or SASL options, while k8s points them at Redpanda's
// internal listener, TLS by default. Against a broker of the test's own with a SASL_SSL listener
// (SCRAM-SHA-512, a CA made for the test), configured as an operator would: KAFKA_* variables.
// The same broker auto-creates topics, as Kafka and Redpanda do by default, which the local stack's
// broker does not: so the clients' allowAutoTopicCreation: false is tested for real here.

const logger = createLogger('kafka-security-test', 'silent');
const serviceSettings = withKafkaConfig(z.object({}));

describe('Kafka over TLS and SASL/SCRAM, and no topic auto-creation', () => {
  let broker: SecureKafkaBroker;
  let admin: Admin;
  let env: Record<string, string>;
  const connect = (variables: Record<string, string>): KafkaConnection => kafkaConnection(loadConfig(serviceSettings, variables));
  const ping = (connection: KafkaConnection) => pingKafka(createKafka({ clientId: 'it-security', connection, logger }));

  beforeAll(async () => {
    broker = await startSecureKafkaBroker();
    env = {
      KAFKA_BROKERS: broker.secure,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: broker.username,
      KAFKA_SASL_PASSWORD: broker.password,
    };
    admin = new Kafka({ brokers: [broker.plaintext], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  it('a service configured with KAFKA_SSL, KAFKA_SSL_CA_FILE and KAFKA_SASL_* reaches the broker', async () => {
    await expect(ping(connect(env))).resolves.toBeUndefined();
  });

  it('a wrong password is refused by the broker', async () => {
    await expect(ping(connect({ ...env, KAFKA_SASL_PASSWORD: 'wrong' }))).rejects.toThrow(/SASL.*authentication failed/i);
  });

  it('without SASL, or without the CA that signed the broker\'s certificate, no connection', async () => {
    const { KAFKA_SASL_MECHANISM: _m, KAFKA_SASL_USERNAME: _u, KAFKA_SASL_PASSWORD: _p, ...tlsOnly } = env;
    await expect(ping(connect(tlsOnly))).rejects.toThrow();
    const { KAFKA_SSL_CA_FILE: _ca, ...systemCas } = env;
    await expect(ping(connect(systemCas))).rejects.toThrow(/certificate/i);
  });

  it('polaris migrate creates the topics over TLS and SASL, from the same variables', async () => {
    const config = loadOperatorConfig(env);
    const topics = [{ topic: `it.secure.${randomUUID()}`, partitions: 3 }];
    const created = await ensureTopics({ connection: config.kafka, replicationFactor: 1, topics, log: () => undefined });
    expect(created.created).toEqual([topics[0]?.topic]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topics[0]?.topic ?? ''] });
    expect(metadata.topics[0]?.partitions).toHaveLength(3);
  });

  it('createKafka\'s producers and consumers never create a missing topic; kafkajs\'s defaults would', async () => {
    const plaintext = { brokers: [broker.plaintext] };
    // The broker does create topics for a client that asks (kafkajs's default).
    const asked = `it.auto.default.${randomUUID()}`;
    const raw = new Kafka({ ...plaintext, logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    await raw.send({ topic: asked, messages: [{ value: 'x' }] });
    await raw.disconnect();
    expect(await admin.listTopics()).toContain(asked);

    const kafka = createKafka({ clientId: 'it-no-auto', connection: plaintext, logger });
    const missing = `it.auto.polaris.${randomUUID()}`;
    const producer = kafka.producer({ retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: missing, messages: [{ value: 'x' }] })).rejects.toThrow(/topic-partition|UNKNOWN_TOPIC/i);
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `it-no-auto-${randomUUID()}`, retry: { retries: 1 } });
    await consumer.connect();
    try {
      await expect(consumer.subscribe({ topic: missing })).rejects.toThrow(/topic-partition|UNKNOWN_TOPIC/i);
    } finally {
      await consumer.disconnect();
    }
    expect(await admin.listTopics()).not.toContain(missing);
  });
});
