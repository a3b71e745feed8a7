import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import type { ReadLimits } from './client';

/**
 * The narrowest client a read needs (Trigger.dev's ClickhouseReader): a query function takes
 * this, so a unit test hands it a fake `query` and nothing else. The read client
 * (createClickHouseReader) also says its limits, which a refusal then names.
 */
export type ClickHouseReader = Pick<ClickHouseClient, 'query'> & { readonly limits?: ReadLimits };
/** The narrowest client a write needs (Trigger.dev's ClickhouseWriter). */
export type ClickHouseWriter = Pick<ClickHouseClient, 'insert'>;

/** One SELECT as a value: built, inspected and tested without a server, then run by `selectRows`. */
export interface SelectStatement {
  query: string;
  /** Per-query server settings, when a statement needs other limits than the server's defaults. */
  settings?: ClickHouseSettings;
}

/** One INSERT as a value. `@clickhouse/client` posts `INSERT INTO <table> FORMAT JSONEachRow`, then a JSON line per row. */
export interface InsertStatement<Row> {
  table: string;
  values: Row[];
}

/** The SQL text an `InsertStatement` is sent as, for engines driven with SQL alone (the compat check). */
export function insertSql<Row>(statement: InsertStatement<Row>): string {
  return `INSERT INTO ${statement.table} FORMAT JSONEachRow\n${statement.values.map((row) => JSON.stringify(row)).join('\n')}`;
}

/**
 * A query was called with params, or answered with rows, of another shape than it declares: a
 * bug on one side of the call. It is never data to store or skip, so it is not a ClickHouse error
 * (the sink treats it as an outage: retried and visible, never dead-lettered).
 */
export class QueryShapeError extends Error {
  constructor(
    readonly queryName: string,
    readonly side: 'params' | 'rows',
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    const first = issues[0];
    super(`${queryName}: ${side} do not match its schema: ${first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid'}`);
    this.name = 'QueryShapeError';
  }
}

/** `params` checked against the query's schema, or a QueryShapeError naming the query. */
export function checkParams<S extends z.ZodType>(queryName: string, schema: S, params: unknown): z.output<S> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw new QueryShapeError(queryName, 'params', parsed.error.issues);
  return parsed.data;
}

/**
 * Settings of every SELECT run here, whatever the client. readonly=2: a statement that would write
 * is refused by the server, even one built wrongly. The overflow modes make a limit (the read
 * client's max_execution_time and max_result_rows) an error instead of a silently partial
 * answer ('break'). wait_end_of_query: the server sends its answer only once the query has
 * finished, so a limit hit late still arrives as an HTTP error with its code, never as a line of
 * text after rows already sent; the answer it holds meanwhile is bounded by max_result_rows.
 */
const SELECT_SETTINGS: ClickHouseSettings = {
  readonly: '2',
  timeout_overflow_mode: 'throw',
  result_overflow_mode: 'throw',
  wait_end_of_query: 1,
} as ClickHouseSettings;

/** `Code: 396, e.displayText() = …` (18.16) or `Code: 396. DB::Exception: …` (newer servers). */
const SERVER_CODE = /^Code: (\d+)[.,] /;
const TIMEOUT_EXCEEDED = 159;
const TOO_MANY_ROWS_OR_BYTES = 396;

/**
 * A read the server stopped at one of its limits, as the error the caller gets: the caller asked
 * too much, so invalid_argument with a code that says so, never internal. Anything else as it was.
 */
function asReadLimitError(err: unknown, limits: ReadLimits | undefined): unknown {
  const code = err instanceof Error ? SERVER_CODE.exec(err.message)?.[1] : undefined;
  if (Number(code) === TOO_MANY_ROWS_OR_BYTES) {
    const cap = limits ? `more than ${limits.maxResultRows} rows (CLICKHOUSE_READ_MAX_RESULT_ROWS)` : 'more rows than one query may return';
    return new PolarisError('invalid_argument', 'query_result_too_large', `the answer would have ${cap}; narrow the query: a shorter range, larger windows or fewer subjects`);
  }
  if (Number(code) === TIMEOUT_EXCEEDED) {
    const cap = limits ? `${limits.maxExecutionTimeS} s (CLICKHOUSE_READ_MAX_EXECUTION_TIME_S)` : 'the time one query may take';
    return new PolarisError('invalid_argument', 'query_timeout', `the query ran past ${cap}; narrow the query: a shorter range, larger windows or fewer subjects`);
  }
  return err;
}

/**
 * Runs one SELECT and checks every row it returns against `row`: rows are parsed, never cast, so
 * a column that changed type or went missing fails here, loudly, instead of turning into
 * `undefined` or 0 further on. Rows are read as a stream and checked one by one, so a large
 * answer is never held whole as text, then as parsed JSON, then as checked rows.
 */
export async function selectRows<S extends z.ZodType>(
  reader: ClickHouseReader,
  queryName: string,
  statement: SelectStatement,
  row: S,
): Promise<Array<z.output<S>>> {
  const rows: Array<z.output<S>> = [];
  try {
    const result = await reader.query({ query: statement.query, format: 'JSONEachRow', clickhouse_settings: { ...statement.settings, ...SELECT_SETTINGS } });
    for await (const batch of result.stream()) {
      for (const line of batch) {
        // The server's own error, should one still come after rows (see SELECT_SETTINGS), is a
        // line of text where a JSON row should be.
        if (SERVER_CODE.test(line.text)) throw new Error(line.text);
        const parsed = row.safeParse(line.json());
        if (!parsed.success) throw new QueryShapeError(queryName, 'rows', parsed.error.issues.map((i) => ({ ...i, path: [rows.length, ...i.path] })));
        rows.push(parsed.data);
      }
    }
  } catch (err) {
    throw asReadLimitError(err, reader.limits);
  }
  return rows;
}
