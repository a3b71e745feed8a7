import { z } from 'zod';
import type { ClickHouseClient } from '@clickhouse/client';
import { checkParams, selectRows, type ClickHouseReader, type SelectStatement } from '../named-query';
import { sqlString, sqlUInt } from '../sql-literal';

const READ_HASHES = 'eventIdentities.readHashes';
const COUNT_HASHES = 'eventIdentities.countHashes';
const COUNT_OTHER_LAYOUTS = 'eventIdentities.countOtherLayouts';

/** A row whose partition is not known under the current partition count: it goes into every filter. */
export const ALL_PARTITIONS = 0xffffffff;
/** RowBinary of (UInt32 partition, UInt64 hash). */
const ROW_BYTES = 12;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day 'YYYY-MM-DD'");
const partitionNumber = z.number().int().min(0).max(ALL_PARTITIONS - 1);
const scopeSchema = z.object({
  /** The first ingestion day read. */
  sinceDay: day,
  /** The partitions whose filters are rebuilt. */
  partitions: z.array(partitionNumber).min(1),
  /** The events topic's partition count the filters are for (the sink labels what it stores with it). */
  partitionCount: z.number().int().min(1).max(ALL_PARTITIONS - 1),
});
export type IdentityHashScope = z.infer<typeof scopeSchema>;

/**
 * Rows of event_identities_v2 since `sinceDay` that belong to one of `partitions` under
 * `partitionCount`, each labelled with its partition, plus every row stored under another count
 * or none (kafka_partitions 0: stored before 0013, or not by the sink), labelled ALL_PARTITIONS.
 */
function whereScope(scope: IdentityHashScope): { label: string; where: string } {
  const n = sqlUInt(scope.partitionCount);
  return {
    label: `if(kafka_partitions = ${n}, kafka_partition, ${ALL_PARTITIONS})`,
    where: `ingested_day >= toDate(${sqlString(scope.sinceDay)}) AND (kafka_partitions != ${n} OR kafka_partition IN (${scope.partitions.map(sqlUInt).join(', ')}))`,
  };
}

export function readHashesStatement(scope: IdentityHashScope): SelectStatement {
  const { label, where } = whereScope(checkParams(READ_HASHES, scopeSchema, scope));
  return { query: `SELECT toUInt32(${label}) AS p, identity_hash FROM event_identities_v2 WHERE ${where} FORMAT RowBinary` };
}

export function countHashesStatement(scope: IdentityHashScope): SelectStatement {
  const { label, where } = whereScope(checkParams(COUNT_HASHES, scopeSchema, scope));
  return { query: `SELECT toUInt32(${label}) AS p, count() AS n FROM event_identities_v2 WHERE ${where} GROUP BY p` };
}

/**
 * eventIdentities.countHashes: rows per label of readHashes (partition or ALL_PARTITIONS), to
 * size the filters before they are filled.
 */
export async function countIdentityHashes(reader: ClickHouseReader, scope: IdentityHashScope): Promise<Map<number, number>> {
  const rows = await selectRows(reader, COUNT_HASHES, countHashesStatement(scope), z.object({ p: z.coerce.number(), n: z.coerce.number() }));
  return new Map(rows.map((r) => [r.p, r.n]));
}

/**
 * eventIdentities.readHashes: streams the identity hashes of the scope to `onRow(label, high, low)`
 * as RowBinary (12 bytes a row, ~1 GB for 100 M rows, never held whole). Returns the rows read.
 */
export async function readIdentityHashes(
  client: Pick<ClickHouseClient, 'exec'>,
  scope: IdentityHashScope,
  onRow: (partition: number, high: number, low: number) => void,
): Promise<number> {
  const { query } = readHashesStatement(scope);
  const { stream } = await client.exec({ query });
  let rows = 0;
  let rest: Buffer | undefined;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    const chunk = rest ? Buffer.concat([rest, piece]) : piece;
    const whole = chunk.length - (chunk.length % ROW_BYTES);
    for (let at = 0; at < whole; at += ROW_BYTES) {
      // UInt64 little-endian: low word first.
      onRow(chunk.readUInt32LE(at), chunk.readUInt32LE(at + 8), chunk.readUInt32LE(at + 4));
    }
    rows += whole / ROW_BYTES;
    rest = whole < chunk.length ? chunk.subarray(whole) : undefined;
  }
  if (rest) throw new Error(`${READ_HASHES}: the answer ended inside a row (${rest.length} stray bytes)`);
  return rows;
}

const layoutSchema = z.object({ sinceDay: day, partitionCount: scopeSchema.shape.partitionCount });

/**
 * eventIdentities.countOtherLayouts: identities stored since `sinceDay` by a sink that knew
 * another partition count than `partitionCount` (0, unknown, excluded). Informational: such rows
 * go into every filter, so they cost false positives, never a missed duplicate.
 */
export async function countOtherLayouts(reader: ClickHouseReader, params: z.infer<typeof layoutSchema>): Promise<number> {
  const p = checkParams(COUNT_OTHER_LAYOUTS, layoutSchema, params);
  const query = `SELECT count() AS n FROM event_identities_v2 WHERE ingested_day >= toDate(${sqlString(p.sinceDay)}) AND kafka_partitions NOT IN (0, ${sqlUInt(p.partitionCount)})`;
  const [row] = await selectRows(reader, COUNT_OTHER_LAYOUTS, { query }, z.object({ n: z.coerce.number() }));
  return row?.n ?? 0;
}

/**
 * eventIdentities.dropDaysBefore: drops the ingestion days of event_identities_v2 before
 * `beforeDay` (whole partitions, ALTER TABLE … DROP PARTITION: no rewrite). Returns the days dropped.
 */
export async function dropIdentityDaysBefore(client: Pick<ClickHouseClient, 'query' | 'command'>, beforeDay: string): Promise<string[]> {
  const before = checkParams('eventIdentities.dropDaysBefore', day, beforeDay);
  // partition_id, 'YYYYMMDD' for a Date key, prints the same on every version (partition does not).
  const beforeId = before.replaceAll('-', '');
  const rows = await selectRows(
    client,
    'eventIdentities.identityDays',
    { query: `SELECT DISTINCT partition_id FROM system.parts WHERE database = currentDatabase() AND table = 'event_identities_v2' AND active AND partition_id < ${sqlString(beforeId)} ORDER BY partition_id` },
    z.object({ partition_id: z.string().regex(/^\d{8}$/) }),
  );
  for (const { partition_id: id } of rows) await client.command({ query: `ALTER TABLE event_identities_v2 DROP PARTITION ID ${sqlString(id)}` });
  // The probe's table (0015) is partitioned by month: a month goes once all its days are gone.
  const months = await selectRows(
    client,
    'eventIdentities.identityHashMonths',
    { query: `SELECT DISTINCT partition_id FROM system.parts WHERE database = currentDatabase() AND table = 'event_identity_hashes_v2' AND active AND partition_id < ${sqlString(beforeId.slice(0, 6))} ORDER BY partition_id` },
    z.object({ partition_id: z.string().regex(/^\d{6}$/) }),
  );
  for (const { partition_id: id } of months) await client.command({ query: `ALTER TABLE event_identity_hashes_v2 DROP PARTITION ID ${sqlString(id)}` });
  return rows.map((r) => `${r.partition_id.slice(0, 4)}-${r.partition_id.slice(4, 6)}-${r.partition_id.slice(6)}`);
}
