import { clickhouseConfigSchema } from '@polaris/clickhouse';
import { postgresConfigSchema } from '@polaris/postgres';
import { loadConfig } from '@polaris/shared/config';
import { kafkaConnection, withKafkaConfig, type KafkaConnection } from '@polaris/shared/kafka';
import { z } from 'zod';

// The only place the operator CLI reads the environment. The variables are the services' own, so
// a migrate Job shares their env; each defaults, as in the services, to the local stack.
const operatorEnvSchema = withKafkaConfig(
  z.object({
    DATABASE_URL: postgresConfigSchema.shape.DATABASE_URL,
    CLICKHOUSE_URL: clickhouseConfigSchema.shape.CLICKHOUSE_URL,
    CLICKHOUSE_DATABASE: clickhouseConfigSchema.shape.CLICKHOUSE_DATABASE,
    CLICKHOUSE_USER: clickhouseConfigSchema.shape.CLICKHOUSE_USER,
    CLICKHOUSE_PASSWORD: clickhouseConfigSchema.shape.CLICKHOUSE_PASSWORD,
    KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1),
  }),
);

export interface OperatorConfig {
  postgres: { url: string };
  clickhouse: { url: string; database: string; username: string; password: string };
  /** Where the brokers are and how to authenticate (TLS, SASL), plus the replicas of the topics migrate creates. */
  kafka: KafkaConnection & { replicationFactor: number };
}

/** Variables whose default a caller may replace (the dev CLI: addresses derived from its stack's ports). */
export type OperatorFallbacks = Partial<Record<'DATABASE_URL' | 'CLICKHOUSE_URL' | 'KAFKA_BROKERS', string>>;

/**
 * Parses the environment, listing every wrong variable at once (a ConfigError). A blank variable
 * means unset, so `CLICKHOUSE_URL=` falls back like a missing one.
 */
export function loadOperatorConfig(env: Record<string, string | undefined> = process.env, fallbacks: OperatorFallbacks = {}): OperatorConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const e = loadConfig(operatorEnvSchema, { ...fallbacks, ...present });
  return {
    postgres: { url: e.DATABASE_URL },
    clickhouse: { url: e.CLICKHOUSE_URL, database: e.CLICKHOUSE_DATABASE, username: e.CLICKHOUSE_USER, password: e.CLICKHOUSE_PASSWORD },
    kafka: { ...kafkaConnection(e), replicationFactor: e.KAFKA_REPLICATION_FACTOR },
  };
}
