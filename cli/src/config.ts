import { clickhouseConfigSchema } from '@polaris/clickhouse';
import { postgresOwnerConfigSchema } from '@polaris/postgres';
import { loadConfig } from '@polaris/shared/config';
import { internalAuthConfigSchema } from '@polaris/shared/grpc';
import { kafkaConnection, withKafkaConfig, type KafkaConnection } from '@polaris/shared/kafka';
import { z } from 'zod';

// The only place the operator CLI reads the environment. The variables are the services' own, so
// a migrate Job shares their env; each defaults, as in the services, to the local stack.
const operatorEnvSchema = withKafkaConfig(
  z.object({
    // The owner of the tables (migrations, operator commands); APP_DATABASE_URL, the services'
    // URL, gives migrate the app role's password (postgres/src/app-role.ts).
    DATABASE_URL: postgresOwnerConfigSchema.shape.DATABASE_URL,
    APP_DATABASE_URL: postgresOwnerConfigSchema.shape.APP_DATABASE_URL,
    CLICKHOUSE_URL: clickhouseConfigSchema.shape.CLICKHOUSE_URL,
    CLICKHOUSE_DATABASE: clickhouseConfigSchema.shape.CLICKHOUSE_DATABASE,
    CLICKHOUSE_USER: clickhouseConfigSchema.shape.CLICKHOUSE_USER,
    CLICKHOUSE_PASSWORD: clickhouseConfigSchema.shape.CLICKHOUSE_PASSWORD,
    KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1),
    // The invoice actions that read usage (recompute, finalize, upcoming) go through the
    // rating-worker's Invoices gRPC, as internal caller `operator`. Optional: only those commands
    // need them, and say so (ratingWorkerOf).
    RATING_WORKER_GRPC_ADDR: z.string().min(1).optional(),
    INTERNAL_AUTH_SECRET: internalAuthConfigSchema.shape.INTERNAL_AUTH_SECRET.optional(),
  }),
);

export interface OperatorConfig {
  /** url: the owner's connection; appUrl: the services' (migrate sets the app role's password from it). */
  postgres: { url: string; appUrl?: string };
  clickhouse: { url: string; database: string; username: string; password: string };
  /** Where the brokers are and how to authenticate (TLS, SASL), plus the replicas of the topics migrate creates. */
  kafka: KafkaConnection & { replicationFactor: number };
  /** The rating-worker's gRPC, for the invoice actions that need usage; either may be unset. */
  ratingWorker: { grpcAddr?: string; internalAuthSecret?: string };
}

/** Variables whose default a caller may replace (the dev CLI: addresses derived from its stack's ports). */
export type OperatorFallbacks = Partial<Record<'DATABASE_URL' | 'APP_DATABASE_URL' | 'CLICKHOUSE_URL' | 'KAFKA_BROKERS' | 'RATING_WORKER_GRPC_ADDR' | 'INTERNAL_AUTH_SECRET', string>>;

/**
 * Parses the environment, listing every wrong variable at once (a ConfigError). A blank variable
 * means unset, so `CLICKHOUSE_URL=` falls back like a missing one.
 */
export function loadOperatorConfig(env: Record<string, string | undefined> = process.env, fallbacks: OperatorFallbacks = {}): OperatorConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const e = loadConfig(operatorEnvSchema, { ...fallbacks, ...present });
  return {
    postgres: { url: e.DATABASE_URL, ...(e.APP_DATABASE_URL ? { appUrl: e.APP_DATABASE_URL } : {}) },
    clickhouse: { url: e.CLICKHOUSE_URL, database: e.CLICKHOUSE_DATABASE, username: e.CLICKHOUSE_USER, password: e.CLICKHOUSE_PASSWORD },
    kafka: { ...kafkaConnection(e), replicationFactor: e.KAFKA_REPLICATION_FACTOR },
    ratingWorker: {
      ...(e.RATING_WORKER_GRPC_ADDR ? { grpcAddr: e.RATING_WORKER_GRPC_ADDR } : {}),
      ...(e.INTERNAL_AUTH_SECRET ? { internalAuthSecret: e.INTERNAL_AUTH_SECRET } : {}),
    },
  };
}
