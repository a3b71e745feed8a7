-- The sink's "already stored?" probe, flat in the window's size (docs/ARCHITECTURE.md, "The dedup
-- window"). event_identities_v2 is sorted by identity and partitioned by day, so probing even a
-- few identities costs an index lookup in every part of every day of the window (~70 ms for 90
-- ids against 2 M identities received in the window, growing with it). This table holds the same
-- identities sorted by their 64-bit hash and partitioned by month: a probe (`identity_hash IN
-- (…)`, the day bound pruning whole months) touches two or three partitions of a few merged
-- parts each, and reads one granule per identity probed.
--
-- The identity itself is part of the sort key: two identities sharing a hash (and a day) are two
-- rows, never collapsed into one; the probe compares identities, the hash only finds them.
-- (Sorted by the hash alone at 128 rows a granule, 90 ids took 156-184 ms against 20 M
-- identities in 13 parts, against 108 ms so: the index analysis of the IN set grows with the
-- marks.) Each part still spans the whole hash range, so the cost follows the parts of the
-- months probed: 27 ms once those 20 M were merged into 2 parts.
-- event_identities_v2 stays: the filters are rebuilt from it, by partition and day.
--
-- Written by its view from the sink's own INSERT into events_raw, like event_identities_v2: a
-- sink killed at any instant leaves the event and its identity rows, or neither.

CREATE TABLE IF NOT EXISTS event_identity_hashes_v1
(
    -- halfMD5 of the identity, length-prefixed (clickhouse/src/event-identities/identity-hash.ts).
    identity_hash       UInt64,
    -- toDate(ingested_at) of the stored copy, UTC.
    ingested_day        Date,
    namespace           String,
    source              String,
    id                  String,
    payload_fingerprint UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ingested_day)
ORDER BY (identity_hash, namespace, source, id, ingested_day)
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_identity_hashes_mv_v1
TO event_identity_hashes_v1
AS SELECT
    halfMD5(concat(toString(length(namespace)), ':', namespace, toString(length(source)), ':', source, id)) AS identity_hash,
    toDate(ingested_at) AS ingested_day,
    namespace,
    source,
    id,
    payload_fingerprint
FROM events_raw;

-- The identities stored before this view. Rows the view also wrote meanwhile are the same rows
-- (same key), collapsed at merge time; read without FINAL, a second copy changes no answer.
INSERT INTO event_identity_hashes_v1 (identity_hash, ingested_day, namespace, source, id, payload_fingerprint)
SELECT identity_hash, ingested_day, namespace, source, id, payload_fingerprint
FROM event_identities_v2;
