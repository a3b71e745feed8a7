import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from './config';

describe('loadOperatorConfig', () => {
  it('defaults to the local stack, as the services do', () => {
    expect(loadOperatorConfig({})).toEqual({
      postgres: { url: 'postgres://polaris:polaris@127.0.0.1:55432/polaris' },
      clickhouse: { url: 'http://127.0.0.1:58123', database: 'polaris', username: 'default', password: '' },
      kafka: { brokers: ['127.0.0.1:59092'], replicationFactor: 1 },
      ratingWorker: {},
    });
  });

  it('reads only the services\' variables, never the dev stack\'s POLARIS_*', () => {
    const config = loadOperatorConfig({ POLARIS_POSTGRES_PORT: '6543', POLARIS_KAFKA_PORT: '9999', POLARIS_CLICKHOUSE_HTTP_PORT: '1234' });
    expect(config).toEqual(loadOperatorConfig({}));
  });

  it('takes the environment over fallbacks, and a blank variable as unset', () => {
    const fallbacks = { DATABASE_URL: 'postgres://x@127.0.0.1:6543/polaris', KAFKA_BROKERS: '127.0.0.1:9999' };
    const config = loadOperatorConfig({ DATABASE_URL: 'postgres://db:5432/p', KAFKA_BROKERS: '', KAFKA_REPLICATION_FACTOR: '3' }, fallbacks);
    expect(config.postgres.url).toBe('postgres://db:5432/p');
    expect(config.kafka).toEqual({ brokers: ['127.0.0.1:9999'], replicationFactor: 3 });
  });

  it('lists every invalid variable at once', () => {
    expect(() => loadOperatorConfig({ CLICKHOUSE_DATABASE: 'a-b', KAFKA_BROKERS: 'nohost' })).toThrow(
      /CLICKHOUSE_DATABASE[\s\S]*KAFKA_BROKERS/,
    );
  });

  it('connects to Kafka as the services do: TLS and SASL from the same variables, half-set SASL refused', () => {
    const config = loadOperatorConfig({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'polaris', KAFKA_SASL_PASSWORD: 'p' });
    expect(config.kafka).toMatchObject({ ssl: true, sasl: { mechanism: 'scram-sha-256', username: 'polaris', password: 'p' } });
    expect(() => loadOperatorConfig({ KAFKA_SASL_USERNAME: 'polaris' })).toThrow(/KAFKA_SASL_MECHANISM: required/);
  });

  it('reads where the rating-worker is and the internal secret, both optional, checking the secret', () => {
    const secret = 'x'.repeat(32);
    expect(loadOperatorConfig({ RATING_WORKER_GRPC_ADDR: 'rating-worker:50053', INTERNAL_AUTH_SECRET: secret }).ratingWorker).toEqual({
      grpcAddr: 'rating-worker:50053',
      internalAuthSecret: secret,
    });
    expect(loadOperatorConfig({}, { RATING_WORKER_GRPC_ADDR: '127.0.0.1:50053', INTERNAL_AUTH_SECRET: secret }).ratingWorker.grpcAddr).toBe('127.0.0.1:50053');
    expect(() => loadOperatorConfig({ INTERNAL_AUTH_SECRET: 'short' })).toThrow(/INTERNAL_AUTH_SECRET: too short/);
  });
});
