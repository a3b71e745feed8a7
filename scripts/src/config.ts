import path from 'node:path';
import { CliError, loadOperatorConfig, type OperatorConfig } from '@polaris/cli';
import { ConfigError } from '@polaris/shared/config';
import { SERVICE_PORTS } from '@polaris/shared/contracts';
import { z } from 'zod';
import { repoRoot } from './paths';
import { localInternalAuthSecret } from './services/internal-auth-secret';

const port = z.coerce.number().int().min(1).max(65535);

// The only place the developer CLI reads the environment: where the local stack lives and its
// ports (docs/ARCHITECTURE.md, Ports). The connection settings are the operator CLI's, defaulting
// to the addresses of this stack.
const stackEnvSchema = z.object({
  POLARIS_STACK_DIR: z.string().default(path.join(repoRoot, '.stack')),
  POLARIS_POSTGRES_PORT: port.default(55432),
  POLARIS_CLICKHOUSE_HTTP_PORT: port.default(58123),
  POLARIS_CLICKHOUSE_TCP_PORT: port.default(59000),
  POLARIS_KAFKA_PORT: port.default(59092),
  POLARIS_KAFKA_CONTROLLER_PORT: port.default(59093),
  POLARIS_REDIS_PORT: port.default(56379),
  POLARIS_SMTP_PORT: port.default(51025),
  POLARIS_STACK_START_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
});

export interface DevConfig extends OperatorConfig {
  stackDir: string;
  startTimeoutMs: number;
  ports: {
    postgres: number;
    clickhouseHttp: number;
    clickhouseTcp: number;
    kafka: number;
    kafkaController: number;
    redis: number;
    smtp: number;
  };
}

export function loadDevConfig(env: Record<string, string | undefined> = process.env): DevConfig {
  // A blank variable means "unset", so `CLICKHOUSE_URL=` falls back to the local stack.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = stackEnvSchema.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const e = parsed.success ? parsed.data : stackEnvSchema.parse({});
  let operator: OperatorConfig | undefined;
  try {
    operator = loadOperatorConfig(env, {
      DATABASE_URL: `postgres://polaris:polaris@127.0.0.1:${e.POLARIS_POSTGRES_PORT}/polaris`,
      // The services' role on this stack: `polaris migrate` gives it this password.
      APP_DATABASE_URL: `postgres://polaris_app:polaris_app@127.0.0.1:${e.POLARIS_POSTGRES_PORT}/polaris`,
      CLICKHOUSE_URL: `http://127.0.0.1:${e.POLARIS_CLICKHOUSE_HTTP_PORT}`,
      KAFKA_BROKERS: `127.0.0.1:${e.POLARIS_KAFKA_PORT}`,
      // The invoice commands that ask the rating-worker reach the one `polaris demo` runs, with the
      // secret this checkout's services are launched with (.stack/internal-auth-secret).
      RATING_WORKER_GRPC_ADDR: `127.0.0.1:${SERVICE_PORTS['rating-worker'].grpc}`,
      INTERNAL_AUTH_SECRET: localInternalAuthSecret(repoRoot),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (!operator || problems.length > 0) throw new CliError(`invalid environment:\n  ${problems.join('\n  ')}`);
  return {
    ...operator,
    stackDir: path.resolve(e.POLARIS_STACK_DIR),
    startTimeoutMs: e.POLARIS_STACK_START_TIMEOUT_MS,
    ports: {
      postgres: e.POLARIS_POSTGRES_PORT,
      clickhouseHttp: e.POLARIS_CLICKHOUSE_HTTP_PORT,
      clickhouseTcp: e.POLARIS_CLICKHOUSE_TCP_PORT,
      kafka: e.POLARIS_KAFKA_PORT,
      kafkaController: e.POLARIS_KAFKA_CONTROLLER_PORT,
      redis: e.POLARIS_REDIS_PORT,
      smtp: e.POLARIS_SMTP_PORT,
    },
  };
}
