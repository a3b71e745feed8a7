-- What a backfill run computed for events stored before their meter version existed
-- (docs/meters.md, "Catalog revisions, leases and backfill"). ENGINE = Null: nothing is kept
-- here; the materialized views beside each meter_usage_per_*_v1 table aggregate every inserted
-- block straight into the rollups, tagged with its run. (18.16 does not cascade materialized
-- views, so a view on events_raw could not feed a table whose own views fill the rollups.)
CREATE TABLE IF NOT EXISTS meter_values_backfill_v1
(
    namespace        String,
    meter_version_id UInt64,
    -- The backfill attempt, never 0 (0 is the live path); queries read a run only inside the
    -- segments it completed, so the rows of an attempt that died are never counted.
    backfill_run     UInt64,
    subject          String,
    time             DateTime('UTC'),
    time_ms          UInt64,
    -- source + '\n' + id: LATEST's tie-break after time_ms, as the views on events_raw build it.
    event_key        String,
    value            Decimal128(9),
    unique_key       String,
    dimensions       Array(String),
    valid            UInt8
)
ENGINE = Null;
