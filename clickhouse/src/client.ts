import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';

export type { ClickHouseClient };
// The sink tells bad data from an outage by the server's error (sink-worker store-error.ts); it
// gets the class from here, so that only this package depends on the driver.
export { ClickHouseError } from '@clickhouse/client';

/** The environment of every process that talks to ClickHouse; a service extends its schema with it. */
export const clickhouseConfigSchema = z.object({
  CLICKHOUSE_URL: z.url().default('http://127.0.0.1:58123'),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('polaris'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
});
export type ClickHouseConfig = z.infer<typeof clickhouseConfigSchema>;

export function createClickHouse(cfg: ClickHouseConfig): ClickHouseClient {
  return createClient({
    url: cfg.CLICKHOUSE_URL,
    database: cfg.CLICKHOUSE_DATABASE,
    username: cfg.CLICKHOUSE_USER,
    password: cfg.CLICKHOUSE_PASSWORD,
    request_timeout: cfg.CLICKHOUSE_REQUEST_TIMEOUT_MS,
    application: 'polaris',
    // Callers log failures once, as structured JSON, with context; the client's own console
    // logger would print each of them again, unstructured.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

export async function pingClickHouse(client: ClickHouseClient): Promise<void> {
  const result = await client.ping();
  if (!result.success) throw result.error;
}
