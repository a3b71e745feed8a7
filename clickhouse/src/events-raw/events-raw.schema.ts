import { z } from 'zod';
import { CLICKHOUSE_DATE_TIME } from '../date-time';
import { DECIMAL_128_9_TEXT } from '../decimal-text';

const UINT64_TEXT = /^\d+$/;
/** An array whose elements the row check looks at itself. */
const arrayOf = <T>() => z.custom<T[]>((v) => Array.isArray(v), 'must be an array');
/** The meter arrays, parallel: element i of each is meter version i of the row. */
const METER_ARRAYS = ['meter_version_ids', 'meter_values', 'meter_unique_keys', 'meter_dimensions', 'meter_valid'] as const;

/**
 * One row of events_raw (clickhouse/migrations/0001_events_raw.sql), by column name, so column
 * order never matters. Only types and formats are checked: what an event may hold is the topic
 * contract's business (eventMessageSchema), and a stricter check here would stop the sink on a row
 * the contract lets through. Strings may even be ill-formed Unicode: ClickHouse refuses those
 * itself, as data (Code 25), which the sink isolates and dead-letters.
 *
 * The formats matter most: a DateTime written wrong would be refused by ClickHouse as data, and
 * the sink would dead-letter every row; refused here, it stops the sink visibly instead. They are
 * one check per row rather than one per field because this runs on every row the sink inserts,
 * and per-field checks cost it about twice as much (bench:sink).
 */
export const eventsRawRowSchema = z
  .object({
    namespace: z.string(),
    id: z.string(),
    source: z.string(),
    type: z.string(),
    subject: z.string(),
    /** The seconds part of the event time, UTC, as toClickHouseDateTime writes it. */
    time: z.string(),
    time_ms: z.number(),
    /** `data` as JSON text. */
    data: z.string(),
    ingested_at: z.string(),
    /** UInt64 as text: the broker offset, which ReplacingMergeTree keeps the highest of. */
    ingest_seq: z.string(),
    /**
     * UInt64 as text: the sink's fingerprint of type, subject, time_ms and data (migration 0010),
     * copied into event_identities_v2 to tell a conflicting copy from a retry. Unset reads 0.
     */
    payload_fingerprint: z.string().optional(),
    /**
     * The partition of the events topic this identity belongs to (Kafka's default partitioner over
     * its key) and the topic's partition count it was computed with (migration 0013): which
     * filter of the sink holds it after a rebuild. Unset reads 0, "unknown": every filter.
     */
    kafka_partition: z.number().int().nonnegative().optional(),
    kafka_partitions: z.number().int().nonnegative().optional(),
    // Meter values (clickhouse/migrations/0002_events_raw_meter_values_v1.sql, docs/meters.md),
    // all optional: a row without them is stored with revision 0 and no meters, as before.
    /** UInt64 as text: the meter catalog revision the values were extracted with (0 when unset). */
    catalog_revision: z.string().optional(),
    // The arrays are only checked to be arrays here; their elements in checkMeterArrays, in one
    // pass: per-element zod schemas made checking a batch of metered rows twice as slow.
    /** UInt64s as text. */
    meter_version_ids: arrayOf<string>().optional(),
    /** Decimal128(9) as text (DECIMAL_128_9_TEXT); sent as bare JSON numbers (see insertStatement). */
    meter_values: arrayOf<string>().optional(),
    meter_unique_keys: arrayOf<string>().optional(),
    meter_dimensions: arrayOf<string[]>().optional(),
    /** 1 valid, 0 invalid. */
    meter_valid: arrayOf<number>().optional(),
  })
  .check((ctx) => {
    const row = ctx.value;
    const problem = (path: string, message: string) => ctx.issues.push({ code: 'custom', path: [path], message, input: row });
    if (!CLICKHOUSE_DATE_TIME.test(row.time)) problem('time', "must be 'YYYY-MM-DD hh:mm:ss' (toClickHouseDateTime)");
    if (!CLICKHOUSE_DATE_TIME.test(row.ingested_at)) problem('ingested_at', "must be 'YYYY-MM-DD hh:mm:ss' (toClickHouseDateTime)");
    if (!Number.isSafeInteger(row.time_ms) || row.time_ms < 0) problem('time_ms', 'must be a non-negative integer');
    if (!UINT64_TEXT.test(row.ingest_seq)) problem('ingest_seq', 'must be a non-negative integer as text');
    if (row.payload_fingerprint !== undefined && !UINT64_TEXT.test(row.payload_fingerprint)) problem('payload_fingerprint', 'must be a non-negative integer as text');
    if (row.catalog_revision !== undefined && !UINT64_TEXT.test(row.catalog_revision)) problem('catalog_revision', 'must be a non-negative integer as text');
    // Most rows carry no meter arrays or a few elements: checked only when there.
    if (row.meter_version_ids !== undefined || row.meter_values !== undefined || row.meter_unique_keys !== undefined || row.meter_dimensions !== undefined || row.meter_valid !== undefined) {
      checkMeterArrays(row, problem);
    }
  });
export type EventsRawRow = z.infer<typeof eventsRawRowSchema>;

/**
 * The meter arrays come all together, of one length, with the revision they were extracted with:
 * values stamped with no revision would read as revision 0, and a backfill would count them again.
 */
function checkMeterArrays(row: EventsRawRow, problem: (path: string, message: string) => void): void {
  const { meter_version_ids: ids, meter_values: values, meter_unique_keys: keys, meter_dimensions: dimensions, meter_valid: valid } = row;
  if (row.catalog_revision === undefined) problem('catalog_revision', 'must be set with the meter values (the revision they were extracted with)');
  if (!ids || !values || !keys || !dimensions || !valid || [values, keys, dimensions, valid].some((a) => a.length !== ids.length)) {
    for (const name of METER_ARRAYS) if (row[name]?.length !== ids?.length) problem(name, `must be present with ${METER_ARRAYS.join(', ')}, all of one length`);
    return;
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'string' || !UINT64_TEXT.test(id)) problem('meter_version_ids', `[${i}] must be a non-negative integer as text`);
    const value = values[i];
    if (typeof value !== 'string' || !DECIMAL_128_9_TEXT.test(value)) problem('meter_values', `[${i}] must be Decimal128(9) text: at most 20 integer and 9 fractional digits, no exponent`);
    if (typeof keys[i] !== 'string') problem('meter_unique_keys', `[${i}] must be a string`);
    const dims = dimensions[i];
    if (!Array.isArray(dims) || !dims.every((d) => typeof d === 'string')) problem('meter_dimensions', `[${i}] must be an array of strings`);
    if (valid[i] !== 0 && valid[i] !== 1) problem('meter_valid', `[${i}] must be 0 or 1`);
  }
}

/** What makes an event the same event: (namespace, source, id), as in the CloudEvents spec. */
export const eventIdentitySchema = z.object({ namespace: z.string(), source: z.string(), id: z.string() });
export type EventIdentity = z.infer<typeof eventIdentitySchema>;
