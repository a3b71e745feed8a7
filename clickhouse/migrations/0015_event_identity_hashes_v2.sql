-- The probe's table, version 2 (docs/ARCHITECTURE.md, "The dedup window"): what
-- event_identity_hashes_v1 (0014) held, sorted by hash and identity only, 256 rows a granule.
--
-- Why not v1. On 18.16 the primary key analysis works over as many key columns as the query's
-- conditions reach: v1's key ends with ingested_day, so the probe's day bound made every mark
-- check a five-column one, and that analysis, not the reading, was most of the probe (140 hashes
-- against 20 M identities in 13 parts: 160 ms; 22 ms with the day bound left out). Here the day
-- is not in the key: the bound prunes whole months through the partition's min/max and nothing
-- else, and the key analysis looks at the hash alone. The probe reads the hash column first
-- (PREWHERE, clickhouse/src/event-identities/event-identities.queries.ts), so the identity's
-- strings are read only in the granules holding a probed hash, not in one granule of every part.
-- 256 rows a granule: a quarter of the rows read per probed hash and part, for a key index four
-- times bigger (1024: 34 ms, 256: 13 ms, 128: 22 ms, same 140 hashes and 20 M identities).
-- Each part still spans the whole hash range, so a probe reads one granule per hash per part of
-- the months probed: bench:sink, 7,000 ids of which 1% stored, filter + probe 12.7 ms with
-- nothing stored, 34.5 ms with 20 M identities in the window in 13 parts (141.7 ms with v1).
--
-- The identity is still in the key: two identities sharing a hash are two rows; the probe
-- compares identities. Two rows of one identity in one month (a copy stored twice) collapse to
-- the latest day received (the version column), so "received since the bound?" answers the same.
-- event_identities_v2 stays: the filters are rebuilt from it.
--
-- The same order as 0013: the new view exists before the old one is dropped, so every INSERT
-- into events_raw writes the identities of at least one of the two tables, and the copy below
-- takes what v1 held before; a row written by both collapses at merge time and, read without
-- FINAL, a second copy changes no answer.

CREATE TABLE IF NOT EXISTS event_identity_hashes_v2
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
ENGINE = ReplacingMergeTree(ingested_day)
PARTITION BY toYYYYMM(ingested_day)
ORDER BY (identity_hash, namespace, source, id)
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_identity_hashes_mv_v2
TO event_identity_hashes_v2
AS SELECT
    halfMD5(concat(toString(length(namespace)), ':', namespace, toString(length(source)), ':', source, id)) AS identity_hash,
    toDate(ingested_at) AS ingested_day,
    namespace,
    source,
    id,
    payload_fingerprint
FROM events_raw;

INSERT INTO event_identity_hashes_v2 (identity_hash, ingested_day, namespace, source, id, payload_fingerprint)
SELECT identity_hash, ingested_day, namespace, source, id, payload_fingerprint
FROM event_identity_hashes_v1;

DROP TABLE IF EXISTS event_identity_hashes_mv_v1;
DROP TABLE IF EXISTS event_identity_hashes_v1;
