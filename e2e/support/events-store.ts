import { createClient } from '@clickhouse/client';
import { sqlString } from '@polaris/clickhouse';

const ch = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123', database: 'polaris' });

export interface StoredEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  time_ms: string;
  data: string;
}

/** Every stored row of an organization (no FINAL: an unmerged duplicate would show). */
export async function storedEvents(orgId: string): Promise<StoredEvent[]> {
  const rs = await ch.query({
    query: `SELECT id, source, type, subject, time_ms, data FROM events_raw WHERE namespace = ${sqlString(orgId)} ORDER BY id`,
    format: 'JSONEachRow',
  });
  return rs.json<StoredEvent>();
}

export async function storedCount(orgId: string): Promise<number> {
  const rs = await ch.query({ query: `SELECT count() AS n FROM events_raw WHERE namespace = ${sqlString(orgId)}`, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}
