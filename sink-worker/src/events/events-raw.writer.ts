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
      const result = await this.ch.query({ query, format: 'JSONEachRow' });
      for (const row of await result.json<EventIdentity>()) found.add(identityKey(row));
    }
    return found;
  }

  async insert(rows: EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ch.insert({ table: 'events_raw', values: rows, format: 'JSONEachRow' });
  }
}

/** The probe queries of `EventsRawWriter.existing`: one per chunk, none for no identities. */
export function buildExistingSql(identities: EventIdentity[]): string[] {
  return chunkByBytes(identities.map((e) => `(${sqlString(e.namespace)}, ${sqlString(e.source)}, ${sqlString(e.id)})`)).map(
    (chunk) => `SELECT namespace, source, id FROM events_raw WHERE (namespace, source, id) IN (${chunk.join(', ')})`,
  );
}

function chunkByBytes(tuples: string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const t of tuples) {
    if (current.length > 0 && bytes + t.length > MAX_LOOKUP_QUERY_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += t.length + 2;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
