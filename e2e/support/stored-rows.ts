import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { sqlString } from '@polaris/clickhouse';

const clients = new Map<string, ClickHouseClient>();

function client(database: string): ClickHouseClient {
  let ch = clients.get(database);
  if (!ch) {
    ch = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123', database });
    clients.set(database, ch);
  }
  return ch;
}

/**
 * Physical rows of events_raw per event id for one namespace: no FINAL, so a duplicate that slipped
 * into the table shows as 2 even before a merge would collapse it.
 */
export async function rowsPerId(namespace: string, database = 'polaris'): Promise<Map<string, number>> {
  const rs = await client(database).query({
    query: `SELECT id, count() AS n FROM events_raw WHERE namespace = ${sqlString(namespace)} GROUP BY id`,
    format: 'JSONEachRow',
  });
  return new Map((await rs.json<{ id: string; n: string }>()).map((r) => [r.id, Number(r.n)]));
}

/** Physical rows (no FINAL) of one namespace. */
export async function rowCount(namespace: string, database = 'polaris'): Promise<number> {
  const rs = await client(database).query({
    query: `SELECT count() AS n FROM events_raw WHERE namespace = ${sqlString(namespace)}`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}

export async function closeRowClients(): Promise<void> {
  await Promise.all([...clients.values()].map((c) => c.close()));
  clients.clear();
}

/**
 * Rows of event_identities_v2 per event id for one namespace, no FINAL: the sink's probe reads
 * these, and ClickHouse writes them from the same INSERT as the events.
 */
export async function identitiesPerId(namespace: string, database = 'polaris'): Promise<Map<string, number>> {
  const rs = await client(database).query({
    query: `SELECT id, count() AS n FROM event_identities_v2 WHERE namespace = ${sqlString(namespace)} GROUP BY id`,
    format: 'JSONEachRow',
  });
  return new Map((await rs.json<{ id: string; n: string }>()).map((r) => [r.id, Number(r.n)]));
}
