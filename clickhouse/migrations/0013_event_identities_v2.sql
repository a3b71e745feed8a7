-- The identity table, version 2: what event_identities_v1 held, plus what the sink needs to
-- rebuild its in-memory filter of stored identities per Kafka partition (docs/ARCHITECTURE.md,
-- "The dedup window"): the partition the stored copy was consumed from, the topic's partition
-- count the sink knew then, and a 64-bit hash of the identity. A rebuild reads only those
-- (~16 bytes a row) over the window's days.
--
-- A new table rather than ALTER TABLE event_identities_v1: on 18.16 a view pushing into a table
-- must produce all of its columns (defaults are not filled in), so between an ALTER of the
-- table and the re-creation of its view every INSERT into events_raw would store its rows and
-- fail at the view, leaving events without identities. Here the new view exists before the old
-- one is dropped, so every insert writes at least one of the two tables' identities, and both
-- are read until the old one is dropped (the copy below).

-- Written by the sink with each row (0 for rows stored before, or by something else).
ALTER TABLE events_raw ADD COLUMN kafka_partition UInt32, ADD COLUMN kafka_partitions UInt32;

CREATE TABLE IF NOT EXISTS event_identities_v2
(
    namespace           String,
    source              String,
    id                  String,
    -- toDate(ingested_at) of the stored copy, UTC.
    ingested_day        Date,
    payload_fingerprint UInt64,
    -- The partition of the events topic the stored copy was consumed from, and how many partitions
    -- the topic had as the sink knew it; kafka_partitions = 0: unknown, the row belongs in every
    -- partition's filter.
    kafka_partition     UInt32,
    kafka_partitions    UInt32,
    -- halfMD5 of the identity, length-prefixed so that no two identities share an input; the sink
    -- computes the same (clickhouse/src/event-identities/identity-hash.ts).
    identity_hash       UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY ingested_day
ORDER BY (namespace, source, id)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_identities_mv_v2
TO event_identities_v2
AS SELECT
    namespace,
    source,
    id,
    toDate(ingested_at) AS ingested_day,
    payload_fingerprint,
    kafka_partition,
    kafka_partitions,
    halfMD5(concat(toString(length(namespace)), ':', namespace, toString(length(source)), ':', source, id)) AS identity_hash
FROM events_raw;

-- The identities stored before this view, partition unknown (0): in every filter. Rows the new
-- view also wrote meanwhile collapse with them (same day and identity).
INSERT INTO event_identities_v2 (namespace, source, id, ingested_day, payload_fingerprint, kafka_partition, kafka_partitions, identity_hash)
SELECT namespace, source, id, ingested_day, payload_fingerprint, 0, 0,
       halfMD5(concat(toString(length(namespace)), ':', namespace, toString(length(source)), ':', source, id))
FROM event_identities_v1;

DROP TABLE IF EXISTS event_identities_mv_v1;
DROP TABLE IF EXISTS event_identities_v1;
