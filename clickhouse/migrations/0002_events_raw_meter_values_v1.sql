-- The meter values the sink extracted from each event (docs/meters.md, "Storage in ClickHouse"),
-- one element per live meter version of the row's (namespace, type), in parallel arrays written
-- in the same INSERT as the event: one block, stored whole or not at all, so an event and its
-- meter values are never split by a crash. Rows stored before this migration read the defaults
-- (revision 0, no meters): backfill counts them (catalog_revision < R_V).
--
-- One ALTER with every column, not six: ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS, and a
-- multi-column ALTER is checked whole before it changes anything, so it adds all six or none.
-- (If it applied but the runner died before recording it, the rerun stops on "column with this
-- name already exists": record the migration by hand, the columns are there.)
ALTER TABLE events_raw
    ADD COLUMN catalog_revision UInt64,
    ADD COLUMN meter_version_ids Array(UInt64),
    -- 0 when the value is invalid, or for COUNT (whose one per event is counted apart).
    ADD COLUMN meter_values Array(Decimal128(9)),
    -- '' unless UNIQUE_COUNT.
    ADD COLUMN meter_unique_keys Array(String),
    -- In the meter's dimension order; a missing or null dimension is ''.
    ADD COLUMN meter_dimensions Array(Array(String)),
    ADD COLUMN meter_valid Array(UInt8);
