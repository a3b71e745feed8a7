import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { z } from 'zod';
import { missingClickHouseMigrations, schemaBehindReason } from './schema-version';

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
  /**
   * Reads on the read client (createClickHouseReader: the Usage API's) stop after this long on
   * the server (max_execution_time, timeout_overflow_mode=throw): the caller gets query_timeout.
   */
  CLICKHOUSE_READ_MAX_EXECUTION_TIME_S: z.coerce.number().int().positive().default(10),
  /**
   * The most rows one read on the read client may return (max_result_rows,
   * result_overflow_mode=throw): past it the query is refused (query_result_too_large), never
   * cut short. 2 × the usage query's 10,000 windows, and well inside gRPC's 4 MiB answer.
   */
  CLICKHOUSE_READ_MAX_RESULT_ROWS: z.coerce.number().int().positive().default(20_000),
});
export type ClickHouseConfig = z.infer<typeof clickhouseConfigSchema>;

function clientOptions(cfg: ClickHouseConfig) {
  return {
    url: cfg.CLICKHOUSE_URL,
    database: cfg.CLICKHOUSE_DATABASE,
    username: cfg.CLICKHOUSE_USER,
    password: cfg.CLICKHOUSE_PASSWORD,
    request_timeout: cfg.CLICKHOUSE_REQUEST_TIMEOUT_MS,
    application: 'polaris',
    // Callers log failures once, as structured JSON, with context; the client's own console
    // logger would print each of them again, unstructured.
    log: { level: ClickHouseLogLevel.OFF },
  };
}

/** The client of the owner of the data (the sink: inserts, its duplicate probe, migrations). */
export function createClickHouse(cfg: ClickHouseConfig): ClickHouseClient {
  return createClient(clientOptions(cfg));
}

/** What a read on the read client may cost; selectRows names them when a query exceeds one. */
export interface ReadLimits {
  maxExecutionTimeS: number;
  maxResultRows: number;
}

/**
 * A client that can only read, within limits: everything sent through it carries the read
 * settings, so a query that would write (INSERT, DDL, SET readonly) is refused by the server
 * (code 164, READONLY). No `insert` or `command`: what is not there cannot be called by mistake.
 */
export type ClickHouseReadClient = Pick<ClickHouseClient, 'query' | 'ping' | 'close'> & { readonly limits: ReadLimits };

/**
 * Settings sent with every request of the read client. Per query, over HTTP, because 18.16 has no
 * SQL-managed users or profiles (a read-only user there means editing users.xml on the server),
 * and because the same settings then hold on any server and under any account an operator
 * configures. readonly=2, not 1: with 1 the server refuses the other settings of the same request.
 * An operator may still give the Usage API an account whose profile is readonly=2 (not 1).
 */
export function readSettings(limits: ReadLimits): ClickHouseSettings {
  return {
    readonly: '2',
    max_execution_time: limits.maxExecutionTimeS,
    timeout_overflow_mode: 'throw',
    max_result_rows: String(limits.maxResultRows),
    result_overflow_mode: 'throw',
  };
}

/**
 * The client for reads served to API callers (the Usage API, and every query added beside it):
 * read-only and bounded in time and rows (CLICKHOUSE_READ_*). Give each such reader this client,
 * never createClickHouse's.
 */
export function createClickHouseReader(cfg: ClickHouseConfig): ClickHouseReadClient {
  const limits: ReadLimits = { maxExecutionTimeS: cfg.CLICKHOUSE_READ_MAX_EXECUTION_TIME_S, maxResultRows: cfg.CLICKHOUSE_READ_MAX_RESULT_ROWS };
  const client = createClient({ ...clientOptions(cfg), clickhouse_settings: readSettings(limits) });
  return {
    limits,
    query: client.query.bind(client) as ClickHouseClient['query'],
    ping: client.ping.bind(client),
    close: client.close.bind(client),
  };
}

/**
 * Readiness: an authenticated query (GET /ping answers any password) shows every migration this
 * build ships as applied. A schema behind the code is not ready, naming the missing migration.
 */
export async function pingClickHouse(client: Pick<ClickHouseClient, 'query'>, opts: { migrationsDir?: string } = {}): Promise<void> {
  const reason = schemaBehindReason(await missingClickHouseMigrations(client, opts.migrationsDir));
  if (reason) throw new Error(reason);
}
