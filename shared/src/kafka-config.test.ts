import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config';
import { kafkaConnection, withKafkaConfig } from './kafka-config';

// A service's schema as the services build theirs: its own fields, then the Kafka fragment.
const schema = withKafkaConfig(z.object({ KAFKA_CLIENT_ID: z.string().default('polaris-test') }));
const load = (env: Record<string, string>) => loadConfig(schema, env);
const problems = (env: Record<string, string>): string[] => {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};
const files: Record<string, string> = { '/ca.pem': 'CA PEM', '/client.pem': 'CERT PEM', '/client.key': 'KEY PEM' };
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
  return text;
};

describe('withKafkaConfig', () => {
  it('defaults to the local stack: plaintext, no SASL, and keeps the service fields', () => {
    const config = load({});
    expect(config.KAFKA_CLIENT_ID).toBe('polaris-test');
    expect(kafkaConnection(config, readFile)).toEqual({ brokers: ['127.0.0.1:59092'] });
  });

  it('takes TLS with a private CA, a client certificate and SCRAM', () => {
    const config = load({
      KAFKA_BROKERS: 'redpanda-0:9093,redpanda-1:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/ca.pem',
      KAFKA_SSL_CERT_FILE: '/client.pem',
      KAFKA_SSL_KEY_FILE: '/client.key',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'polaris',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    expect(kafkaConnection(config, readFile)).toEqual({
      brokers: ['redpanda-0:9093', 'redpanda-1:9093'],
      ssl: { ca: ['CA PEM'], cert: 'CERT PEM', key: 'KEY PEM' },
      sasl: { mechanism: 'scram-sha-512', username: 'polaris', password: 's3cret' },
    });
  });

  it('takes TLS alone with the system CAs', () => {
    expect(kafkaConnection(load({ KAFKA_SSL: 'true' }), readFile)).toEqual({ brokers: ['127.0.0.1:59092'], ssl: true });
  });

  it('refuses half-set SASL, naming each missing variable', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-256' })).toEqual([
      'KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set',
      'KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set',
    ]);
    expect(problems({ KAFKA_SASL_USERNAME: 'polaris', KAFKA_SASL_PASSWORD: 'x' })).toEqual([
      'KAFKA_SASL_MECHANISM: required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set (scram-sha-256, scram-sha-512 or plain)',
    ]);
    expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'polaris' })).toEqual([
      'KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set',
    ]);
  });

  it('refuses an unknown mechanism, and PLAIN without TLS (the password would cross the network in clear)', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })[0]).toMatch(/^KAFKA_SASL_MECHANISM: /);
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toEqual([
      'KAFKA_SASL_MECHANISM: plain sends the password in clear text: set KAFKA_SSL=true, or use scram-sha-256 or scram-sha-512',
    ]);
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toEqual([]);
  });

  it('refuses TLS files without KAFKA_SSL=true, and a client certificate without its key', () => {
    expect(problems({ KAFKA_SSL_CA_FILE: '/ca.pem' })).toEqual(['KAFKA_SSL: must be true when KAFKA_SSL_CA_FILE is set']);
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/client.pem' })).toEqual([
      'KAFKA_SSL_KEY_FILE: required when KAFKA_SSL_CERT_FILE is set',
    ]);
    expect(problems({ KAFKA_SSL: 'yes' })[0]).toMatch(/^KAFKA_SSL: /);
  });

  it('lists Kafka problems together with the service\'s own', () => {
    const strict = withKafkaConfig(z.object({ PORT: z.coerce.number().int() }));
    expect(() => loadConfig(strict, { PORT: 'x', KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/PORT[\s\S]*KAFKA_SASL_USERNAME/);
  });
});

describe('kafkaConnection', () => {
  it('names the variable of a file it cannot read', () => {
    const config = load({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/missing.pem' });
    expect(() => kafkaConnection(config, readFile)).toThrow(ConfigError);
    expect(() => kafkaConnection(config, readFile)).toThrow(/KAFKA_SSL_CA_FILE: cannot read \/missing\.pem/);
  });
});
