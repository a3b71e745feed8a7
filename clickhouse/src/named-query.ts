import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { z } from 'zod';

/**
 * The narrowest client a read needs (Trigger.dev's ClickhouseReader): a query function takes
 * this, so a unit test hands it a fake `query` and nothing else.
 */
export type ClickHouseReader = Pick<ClickHouseClient, 'query'>;
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
 * Runs one SELECT and checks every row it returns against `row`: rows are parsed, never cast, so
 * a column that changed type or went missing fails here, loudly, instead of turning into
 * `undefined` or 0 further on.
 */
export async function selectRows<S extends z.ZodType>(
  reader: ClickHouseReader,
  queryName: string,
  statement: SelectStatement,
  row: S,
): Promise<Array<z.output<S>>> {
  const result = await reader.query({ query: statement.query, format: 'JSONEachRow', clickhouse_settings: statement.settings });
  const parsed = z.array(row).safeParse(await result.json());
  if (!parsed.success) throw new QueryShapeError(queryName, 'rows', parsed.error.issues);
  return parsed.data;
}
