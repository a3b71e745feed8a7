import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDevConfig } from './config';
import { repoRoot } from './paths';

describe('loadDevConfig', () => {
  it('defaults to the ports of docs/ARCHITECTURE.md and a stack under the repo', () => {
    const config = loadDevConfig({});
    expect(config.stackDir).toBe(path.join(repoRoot, '.stack'));
    expect(config.ports).toEqual({
      postgres: 55432,
      clickhouseHttp: 58123,
      clickhouseTcp: 59000,
      kafka: 59092,
      kafkaController: 59093,
      redis: 56379,
      smtp: 51025,
    });
    expect(config.postgres.url).toBe('postgres://polaris:polaris@127.0.0.1:55432/polaris');
    expect(config.clickhouse).toEqual({ url: 'http://127.0.0.1:58123', database: 'polaris', username: 'default', password: '' });
    expect(config.kafka).toEqual({ brokers: ['127.0.0.1:59092'], replicationFactor: 1 });
  });

  it('derives connection settings from overridden ports; explicit URLs win; blanks mean unset', () => {
    const config = loadDevConfig({
      POLARIS_POSTGRES_PORT: '6543',
      POLARIS_KAFKA_PORT: '9999',
      CLICKHOUSE_URL: 'http://ch:8123',
      KAFKA_BROKERS: '',
      POLARIS_STACK_DIR: 'rel/stack',
    });
    expect(config.postgres.url).toBe('postgres://polaris:polaris@127.0.0.1:6543/polaris');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9999']);
    expect(config.clickhouse.url).toBe('http://ch:8123');
    expect(path.isAbsolute(config.stackDir)).toBe(true);
  });

  it('lists every invalid variable at once', () => {
    expect(() => loadDevConfig({ POLARIS_REDIS_PORT: '70000', CLICKHOUSE_DATABASE: 'a-b' })).toThrow(
      /POLARIS_REDIS_PORT[\s\S]*CLICKHOUSE_DATABASE|CLICKHOUSE_DATABASE[\s\S]*POLARIS_REDIS_PORT/,
    );
  });
});
