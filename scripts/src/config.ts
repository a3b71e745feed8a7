import path from 'node:path';
import { z } from 'zod';
import { CliError } from './errors';
import { repoRoot } from './paths';

const port = z.coerce.number().int().min(1).max(65535);

// The only place the CLI reads the environment. Ports default to those in docs/ARCHITECTURE.md (Ports); the connection
// settings use the same names as the services so a migrate job can share their env.
const envSchema = z.object({
  POLARIS_STACK_DIR: z.string().default(path.join(repoRoot, '.stack')),
  POLARIS_POSTGRES_PORT: port.default(55432),
  POLARIS_CLICKHOUSE_HTTP_PORT: port.default(58123),
  POLARIS_CLICKHOUSE_TCP_PORT: port.default(59000),
  POLARIS_KAFKA_PORT: port.default(59092),
  POLARIS_KAFKA_CONTROLLER_PORT: port.default(59093),
  POLARIS_REDIS_PORT: port.default(56379),
  POLARIS_STACK_START_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  DATABASE_URL: z.string().optional(),
  CLICKHOUSE_URL: z.url().optional(),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a plain identifier').default('polaris'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  KAFKA_BROKERS: z.string().optional(),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1),
});

export interface CliConfig {
  stackDir: string;
  startTimeoutMs: number;
  ports: {
    postgres: number;
    clickhouseHttp: number;
    clickhouseTcp: number;
    kafka: number;
    kafkaController: number;
    redis: number;
  };
  postgres: { url: string };
  clickhouse: { url: string; database: string; username: string; password: string };
  kafka: { brokers: string[]; replicationFactor: number };
  redis: { url: string };
}

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  // A blank variable means "unset", so `CLICKHOUSE_URL=` falls back to the local stack.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new CliError(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    stackDir: path.resolve(e.POLARIS_STACK_DIR),
    startTimeoutMs: e.POLARIS_STACK_START_TIMEOUT_MS,
    ports: {
      postgres: e.POLARIS_POSTGRES_PORT,
      clickhouseHttp: e.POLARIS_CLICKHOUSE_HTTP_PORT,
      clickhouseTcp: e.POLARIS_CLICKHOUSE_TCP_PORT,
      kafka: e.POLARIS_KAFKA_PORT,
      kafkaController: e.POLARIS_KAFKA_CONTROLLER_PORT,
      redis: e.POLARIS_REDIS_PORT,
    },
    postgres: { url: e.DATABASE_URL ?? `postgres://polaris:polaris@127.0.0.1:${e.POLARIS_POSTGRES_PORT}/polaris` },
    clickhouse: {
      url: e.CLICKHOUSE_URL ?? `http://127.0.0.1:${e.POLARIS_CLICKHOUSE_HTTP_PORT}`,
      database: e.CLICKHOUSE_DATABASE,
      username: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
    },
    kafka: {
      brokers: (e.KAFKA_BROKERS ?? `127.0.0.1:${e.POLARIS_KAFKA_PORT}`)
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      replicationFactor: e.KAFKA_REPLICATION_FACTOR,
    },
    redis: { url: `redis://127.0.0.1:${e.POLARIS_REDIS_PORT}` },
  };
}
