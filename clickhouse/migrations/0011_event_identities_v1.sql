-- The identities of stored events, narrow, for the sink's "already stored?" probe
-- (docs/ARCHITECTURE.md, "Idempotency", step 3). Filled only by event_identities_mv_v1, in the
-- same INSERT as the events_raw rows: the sink makes one write, so no crash of the sink can leave
-- an event without its identity (a replay would store it twice) or an identity without its event
-- (a replay would drop it).
--
-- Partitioned by the day the stored copy was received (ingestion time: the window runs from the
-- first copy's receipt, whatever the event time or receipt time of a retry), so the probe reads
-- only the partitions of the dedup window (SINK_DEDUP_WINDOW_DAYS) and nothing older, however
-- much the namespace has stored. Sorted by the identity: each probed identity is
-- an index lookup in each partition. index_granularity 1024 rather than 8192: a lookup reads one
-- granule, and on 18.16 (2 cores) we measured 7,000 random identities against 20 M stored at 0.67 s with
-- 1024, 0.92 s with 256 (more marks to search) and 1.6 s with 8192.
-- ReplacingMergeTree: the rows of an identity written twice into one day (an old sink during a
-- deploy, the backfill of 0012) collapse; the probe reads without FINAL, any copy will do.
CREATE TABLE IF NOT EXISTS event_identities_v1
(
    namespace           String,
    source              String,
    id                  String,
    -- toDate(ingested_at) of the stored copy, UTC.
    ingested_day        Date,
    payload_fingerprint UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY ingested_day
ORDER BY (namespace, source, id)
SETTINGS index_granularity = 1024;
