import { Readable } from 'node:stream';
import { eventIdentityKey } from '@polaris/shared/contracts';
import { z } from 'zod';
import type { ClickHouseClient } from '../client';
import { checkParams, selectRows, type ClickHouseReader, type ClickHouseWriter, type InsertStatement, type SelectStatement } from '../named-query';
import { jsonDecimal } from '../decimal-text';
import { sqlString } from '../sql-literal';
import { eventIdentitySchema, eventsRawRowSchema, type EventIdentity, type EventsRawRow } from './events-raw.schema';

const INSERT = 'eventsRaw.insert';
const FIND_EXISTING = 'eventsRaw.findExisting';

const insertParams = z.array(eventsRawRowSchema);
const findExistingParams = z.array(eventIdentitySchema);

/** A row as it is sent: meter values as raw JSON numbers, which is how 18.16 reads a Decimal. */
export type EventsRawInsertRow = Omit<EventsRawRow, 'meter_values'> & { meter_values?: Array<ReturnType<typeof jsonDecimal>> };

/** eventsRaw.insert as a value: the checked rows and where they go. */
export function insertStatement(rows: readonly EventsRawRow[]): InsertStatement<EventsRawInsertRow> {
  const values = checkParams(INSERT, insertParams, rows).map((row): EventsRawInsertRow => {
    if (row.meter_values === undefined) return row as Omit<EventsRawRow, 'meter_values'>; // no copy for rows without meters
    return { ...row, meter_values: row.meter_values.map(jsonDecimal) };
  });
  return { table: 'events_raw', values };
}

/**
 * eventsRaw.insert: the rows as one INSERT, that is one block, which ClickHouse stores whole or
 * not at all. The sink relies on that: a refused insert stored nothing, so it may split and retry.
 */
export async function insertEventsRaw(writer: ClickHouseWriter, rows: readonly EventsRawRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { table, values } = insertStatement(rows);
  await writer.insert({ table, values, format: 'JSONEachRow' });
}

/**
 * One row as a JSONEachRow line (with its newline), as eventsRaw.insert sends it, without the
 * row check: for rows built by code from a message the topic contract already validated (the
 * sink's), where checking each row again with zod cost about a third of the sink's own CPU time
 * per event (bench:sink, --cpu-prof). The sink's unit tests hold its rows to eventsRawRowSchema.
 * Meter values go out as bare JSON numbers (see jsonDecimal); they must be DECIMAL_128_9_TEXT.
 */
export function eventsRawLine(row: EventsRawRow): string {
  if (row.meter_values === undefined) return `${JSON.stringify(row)}\n`;
  const { meter_values: values, ...rest } = row;
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"meter_values":[${values.join(',')}]}\n`;
}

/**
 * eventsRaw.insertLines: lines made by eventsRawLine as one INSERT (one block), sent as they are:
 * the body is built once, not re-encoded by the client.
 */
export async function insertEventsRawLines(writer: ClickHouseExecutor, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  // Through exec with a byte stream: client.insert would want objects and encode them again.
  const result = await writer.exec({ query: INSERT_LINES_SQL, values: Readable.from([lines.join('')], { objectMode: false }) });
  result.stream.destroy();
}

const INSERT_LINES_SQL = 'INSERT INTO events_raw FORMAT JSONEachRow';

/** What insertEventsRawLines needs of a client: a statement with a body of its own. */
export type ClickHouseExecutor = Pick<ClickHouseClient, 'exec'>;

/**
 * eventsRaw.findExisting: which of these identities are already stored, as eventIdentityKey
 * strings (the sink's keys for its candidates). Reads without FINAL on purpose: any copy of a row
 * proves the event is stored, merged or not, and FINAL would only add merge work to every batch.
 */
export async function findExistingEventsRaw(reader: ClickHouseReader, identities: readonly EventIdentity[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const statement of findExistingStatements(identities)) {
    for (const row of await selectRows(reader, FIND_EXISTING, statement, eventIdentitySchema)) {
      found.add(eventIdentityKey(row.namespace, row.source, row.id));
    }
  }
  return found;
}

/** Keeps each probe well under ClickHouse's default max_query_size (256 KiB), which counts bytes. */
const MAX_PROBE_QUERY_BYTES = 200_000;
const DEFAULT_MAX_QUERY_SIZE = 256 * 1024;
const PROBE_SELECT = 'SELECT namespace, source, id FROM events_raw WHERE ';
/** "(", "(", "))" around a group's ids, and " OR " before the next group. */
const GROUP_PUNCTUATION_BYTES = 10;
/** ", " between ids. */
const ID_SEPARATOR_BYTES = 2;

/**
 * The probe queries of eventsRaw.findExisting: none for no identities, else as few as fit in
 * MAX_PROBE_QUERY_BYTES, each `(namespace = … AND source = … AND id IN (…)) OR …`.
 *
 * Grouped by (namespace, source) rather than `(namespace, source, id) IN ((…), …)`: ClickHouse
 * 18.16 spends most of a probe parsing the literal list, and a batch shares one namespace and
 * source or a few, so the tuple form repeated them in every element. bench:sink measured a
 * 7,000-identity probe at ~140 ms as tuples (3 queries) against ~40 ms grouped (1 query), the
 * probe then being two thirds of the sink's time per batch.
 *
 * Sizes are UTF-8 bytes, as the server counts them: counted in UTF-16 units, 2,000 ids of 256 CJK
 * characters made 583,813-byte queries, which the server refused (Code 62) on every retry.
 */
export function findExistingStatements(identities: readonly EventIdentity[]): SelectStatement[] {
  return identityProbeStatements(FIND_EXISTING, PROBE_SELECT, '', identities);
}

/**
 * `prefix + (namespace = … AND source = … AND id IN (…)) OR … + suffix`, cut into as few queries as
 * fit in MAX_PROBE_QUERY_BYTES: the probe of eventsRaw.findExisting and of
 * eventIdentities.findStored. `prefix` ends where the terms go; `suffix` closes what it opened.
 */
export function identityProbeStatements(name: string, prefix: string, suffix: string, identities: readonly EventIdentity[]): SelectStatement[] {
  type Group = { head: string; headBytes: number; ids: string[] };
  const groups: Group[] = [];
  // namespace → source → group: first-seen order, without building a key string per identity.
  const byNamespace = new Map<string, Map<string, Group>>();
  for (const e of checkParams(name, findExistingParams, identities)) {
    let bySource = byNamespace.get(e.namespace);
    if (!bySource) byNamespace.set(e.namespace, (bySource = new Map()));
    let group = bySource.get(e.source);
    if (!group) {
      const head = `namespace = ${sqlString(e.namespace)} AND source = ${sqlString(e.source)} AND id IN `;
      group = { head, headBytes: Buffer.byteLength(head), ids: [] };
      bySource.set(e.source, group);
      groups.push(group);
    }
    group.ids.push(sqlString(e.id));
  }

  const selectBytes = Buffer.byteLength(prefix) + Buffer.byteLength(suffix);
  const queries: string[] = [];
  let terms: string[] = [];
  let bytes = selectBytes;
  const endQuery = () => {
    if (terms.length > 0) queries.push(prefix + terms.join(' OR ') + suffix);
    terms = [];
    bytes = selectBytes;
  };
  for (const { head, headBytes, ids } of groups) {
    const overhead = headBytes + GROUP_PUNCTUATION_BYTES;
    let chunk: string[] = [];
    const endTerm = () => {
      if (chunk.length > 0) terms.push(`(${head}(${chunk.join(', ')}))`);
      chunk = [];
    };
    bytes += overhead;
    for (const id of ids) {
      const idBytes = Buffer.byteLength(id) + ID_SEPARATOR_BYTES;
      // A single oversized id still gets a query of its own rather than none.
      if (bytes + idBytes > MAX_PROBE_QUERY_BYTES && (chunk.length > 0 || terms.length > 0)) {
        endTerm();
        endQuery();
        bytes += overhead;
      }
      chunk.push(id);
      bytes += idBytes;
    }
    endTerm();
  }
  endQuery();
  return queries.map(withQuerySizeFor);
}

/**
 * A query over the server's default max_query_size happens only with an identity too long to
 * share a query (ids are not length-limited on the topic). Raise the limit for that query alone,
 * rather than let one long id fail the probe of the whole batch (Code 62) forever.
 */
function withQuerySizeFor(query: string): SelectStatement {
  const bytes = Buffer.byteLength(query);
  return bytes > DEFAULT_MAX_QUERY_SIZE ? { query, settings: { max_query_size: String(bytes + 1024) } } : { query };
}
