import { z } from 'zod';
import { CLICKHOUSE_DATE_TIME } from '../date-time';

const UINT64_TEXT = /^\d+$/;

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
  })
  .check((ctx) => {
    const row = ctx.value;
    const problem = (path: string, message: string) => ctx.issues.push({ code: 'custom', path: [path], message, input: row });
    if (!CLICKHOUSE_DATE_TIME.test(row.time)) problem('time', "must be 'YYYY-MM-DD hh:mm:ss' (toClickHouseDateTime)");
    if (!CLICKHOUSE_DATE_TIME.test(row.ingested_at)) problem('ingested_at', "must be 'YYYY-MM-DD hh:mm:ss' (toClickHouseDateTime)");
    if (!Number.isSafeInteger(row.time_ms) || row.time_ms < 0) problem('time_ms', 'must be a non-negative integer');
    if (!UINT64_TEXT.test(row.ingest_seq)) problem('ingest_seq', 'must be a non-negative integer as text');
  });
export type EventsRawRow = z.infer<typeof eventsRawRowSchema>;

/** What makes an event the same event: (namespace, source, id), as in the CloudEvents spec. */
export const eventIdentitySchema = z.object({ namespace: z.string(), source: z.string(), id: z.string() });
export type EventIdentity = z.infer<typeof eventIdentitySchema>;
