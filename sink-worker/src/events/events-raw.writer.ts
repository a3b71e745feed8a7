import { sqlString, type ClickHouseClient } from '@polaris/shared';

/** One row of events_raw. Named fields, so column order never matters. */
export interface EventRow {
  namespace: string;
  id: string;
  source: string;
  type: string;
  subject: string;
  /** 'YYYY-MM-DD hh:mm:ss' in UTC: the seconds part of the event time. */
  time: string;
  time_ms: number;
  data: string;
  ingested_at: string;
  ingest_seq: string;
}

export interface EventIdentity {
  namespace: string;
  source: string;
  id: string;
}

export const identityKey = (e: EventIdentity): string => JSON.stringify([e.namespace, e.source, e.id]);

export function toClickHouseDateTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

// Keeps each lookup well under ClickHouse's default max_query_size (256 KiB).
const MAX_LOOKUP_QUERY_BYTES = 200_000;
const DEFAULT_MAX_QUERY_SIZE = 256 * 1024;

/** Writes and probes events_raw. */
export class EventsRawWriter {
  constructor(private readonly ch: ClickHouseClient) {}

  /**
   * Which of these identities are already stored. Reads without FINAL on purpose: any copy of a
   * row proves the event is stored, merged or not.
   */
  async existing(identities: EventIdentity[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const query of buildExistingSql(identities)) {
      // Over the server's default max_query_size (bytes, where the split counts characters) only
      // with an identity too long to share a query or many multi-byte characters; ids are not
      // length-limited on the topic. Raise the limit for that query alone, rather than let one
      // long id fail the probe of the whole batch (Code 62) forever.
      const bytes = Buffer.byteLength(query);
      const clickhouse_settings = bytes > DEFAULT_MAX_QUERY_SIZE ? { max_query_size: String(bytes + 1024) } : undefined;
      const result = await this.ch.query({ query, format: 'JSONEachRow', clickhouse_settings });
      for (const row of await result.json<EventIdentity>()) found.add(identityKey(row));
    }
    return found;
  }

  async insert(rows: EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ch.insert({ table: 'events_raw', values: rows, format: 'JSONEachRow' });
  }
}

const PROBE_SELECT = 'SELECT namespace, source, id FROM events_raw WHERE ';

/**
 * The probe queries of `EventsRawWriter.existing`: none for no identities, else as few as fit in
 * MAX_LOOKUP_QUERY_BYTES, each `(namespace = … AND source = … AND id IN (…)) OR …`.
 *
 * Grouped by (namespace, source) rather than `(namespace, source, id) IN ((…), …)`: ClickHouse
 * 18.16 spends most of a probe parsing the literal list, and a batch shares one namespace and
 * source or a few, so the tuple form repeated them in every element. bench:sink measured a
 * 7,000-identity probe at ~140 ms as tuples (3 queries) against ~40 ms grouped (1 query), the
 * probe then being two thirds of the sink's time per batch.
 */
export function buildExistingSql(identities: EventIdentity[]): string[] {
  const groups = new Map<string, { head: string; ids: string[] }>();
  for (const e of identities) {
    const key = JSON.stringify([e.namespace, e.source]);
    let group = groups.get(key);
    if (!group) {
      group = { head: `namespace = ${sqlString(e.namespace)} AND source = ${sqlString(e.source)} AND id IN `, ids: [] };
      groups.set(key, group);
    }
    group.ids.push(sqlString(e.id));
  }

  const queries: string[] = [];
  let terms: string[] = [];
  let bytes = PROBE_SELECT.length;
  const endQuery = () => {
    if (terms.length > 0) queries.push(PROBE_SELECT + terms.join(' OR '));
    terms = [];
    bytes = PROBE_SELECT.length;
  };
  for (const { head, ids } of groups.values()) {
    const overhead = head.length + 10; // "(", "(", "))", " OR "
    let chunk: string[] = [];
    const endTerm = () => {
      if (chunk.length > 0) terms.push(`(${head}(${chunk.join(', ')}))`);
      chunk = [];
    };
    bytes += overhead;
    for (const id of ids) {
      // A single oversized id still gets a query of its own rather than none.
      if (bytes + id.length + 2 > MAX_LOOKUP_QUERY_BYTES && (chunk.length > 0 || terms.length > 0)) {
        endTerm();
        endQuery();
        bytes += overhead;
      }
      chunk.push(id);
      bytes += id.length + 2;
    }
    endTerm();
  }
  endQuery();
  return queries;
}
