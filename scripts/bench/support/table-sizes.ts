import { sqlString, type ClickHouseClient } from '@polaris/clickhouse';

export interface TableSize {
  table: string;
  rows: number;
  bytesOnDisk: number;
  uncompressedBytes: number;
  parts: number;
}

/** Rows, bytes on disk and active parts of each table of `database` (system.parts, active parts only). */
export async function tableSizes(client: ClickHouseClient, database: string): Promise<TableSize[]> {
  const rs = await client.query({
    query: `SELECT table, toString(sum(rows)) AS rows, toString(sum(bytes_on_disk)) AS bytes, toString(sum(data_uncompressed_bytes)) AS uncompressed, toString(count()) AS parts
            FROM system.parts WHERE database = ${sqlString(database)} AND active GROUP BY table ORDER BY table`,
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ table: string; rows: string; bytes: string; uncompressed: string; parts: string }>();
  return rows.map((r) => ({ table: r.table, rows: Number(r.rows), bytesOnDisk: Number(r.bytes), uncompressedBytes: Number(r.uncompressed), parts: Number(r.parts) }));
}

/** Merges running on the tables of `database` right now. */
export async function runningMerges(client: ClickHouseClient, database: string): Promise<number> {
  const rs = await client.query({ query: `SELECT toString(count()) AS n FROM system.merges WHERE database = ${sqlString(database)}`, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

export const mebibytes = (bytes: number): string => `${(bytes / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB`;
