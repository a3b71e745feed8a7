import { sqlString } from '@polaris/clickhouse';

const DAY_MS = 86_400_000;

/**
 * bench:usage's synthetic history: `events` events of one SUM meter, spread evenly over `days`
 * UTC days from `fromMs` and over `subjects` subjects, each with a `model` dimension. Fixed dates
 * and a deterministic generator, so runs compare and the raw and rollup answers can be checked
 * against each other (never against numbers written here).
 */
export interface UsageDataset {
  namespace: string;
  eventType: string;
  /** The one meter version every row carries (meter_version_ids = [1]). */
  meterVersionId: string;
  events: number;
  subjects: number;
  fromMs: number;
  toMs: number;
}

export function usageDataset(namespace: string, events: number): UsageDataset {
  const fromMs = Date.UTC(2025, 0, 1);
  // Jan + Feb + Mar 2025: 90 days, three monthly partitions.
  return { namespace, eventType: 'llm.tokens', meterVersionId: '1', events, subjects: 10_000, fromMs, toMs: fromMs + 90 * DAY_MS };
}

export const subjectName = (i: number): string => `customer-${i}`;

/**
 * One chunk of the history as `INSERT INTO events_raw SELECT … FROM numbers(size)`, event
 * numbers [offset, offset + size). Generated inside ClickHouse, so 50 million rows never cross
 * the network, and inserted into events_raw itself, so the three materialized views fill the
 * rollups block by block exactly as they do for the sink's inserts.
 *
 * Event n: time from + n × span / events (in time order, as a live stream arrives, so a chunk
 * touches one or two monthly partitions), subject intHash64(n) mod subjects, tokens a decimal
 * with three fractional digits, model one of three. Its meter arrays are what the sink would
 * stamp for `SUM($.tokens) by model` at catalog revision 1. Only 18.16 functions.
 */
export function insertChunkSql(ds: UsageDataset, offset: number, size: number): string {
  const spanMs = ds.toMs - ds.fromMs;
  return `INSERT INTO events_raw (namespace, id, source, type, subject, time, time_ms, data, ingested_at, ingest_seq,
    catalog_revision, meter_version_ids, meter_values, meter_unique_keys, meter_dimensions, meter_valid)
SELECT
    ${sqlString(ds.namespace)} AS namespace,
    concat('ev-', toString(n)) AS id,
    'bench-usage' AS source,
    ${sqlString(ds.eventType)} AS type,
    concat('customer-', toString(intHash64(n) % ${ds.subjects})) AS subject,
    toDateTime(intDiv(t_ms, 1000)) AS time,
    t_ms AS time_ms,
    concat('{"model":"', model, '","tokens":', tokens, '}') AS data,
    time AS ingested_at,
    n AS ingest_seq,
    toUInt64(1) AS catalog_revision,
    [toUInt64(${ds.meterVersionId})] AS meter_version_ids,
    [toDecimal128(tokens, 9)] AS meter_values,
    [''] AS meter_unique_keys,
    [[model]] AS meter_dimensions,
    [toUInt8(1)] AS meter_valid
FROM
(
    SELECT
        n,
        toUInt64(${ds.fromMs}) + intDiv(n * ${spanMs}, ${ds.events}) AS t_ms,
        intHash32(n) % 5000000 AS milli,
        concat(toString(intDiv(milli, 1000)), '.', substring(toString(1000 + milli % 1000), 2, 3)) AS tokens,
        ['gpt-small', 'gpt-large', 'embed'][n % 3 + 1] AS model
    FROM (SELECT toUInt64(number + ${offset}) AS n FROM numbers(${size}))
)`;
}

/** Runs the whole history chunk by chunk through `insert` (chunk i's SQL); `progress` hears after each. */
export async function loadUsageDataset(
  insert: (sql: string, chunk: number) => Promise<unknown>,
  ds: UsageDataset,
  chunkRows: number,
  progress: (inserted: number) => void,
): Promise<number> {
  let chunk = 0;
  for (let offset = 0; offset < ds.events; offset += chunkRows) {
    const size = Math.min(chunkRows, ds.events - offset);
    await insert(insertChunkSql(ds, offset, size), chunk++);
    progress(offset + size);
  }
  return chunk;
}
