-- Feeds event_identities_v1 from every INSERT block of events_raw (one level: 18.16 does not
-- cascade views). Then the identities of events stored before this view existed, so that a retry
-- of one of them is still recognised; rows the view also copied meanwhile collapse
-- (ReplacingMergeTree, same day and identity). The copy reads all of events_raw once.
CREATE MATERIALIZED VIEW IF NOT EXISTS event_identities_mv_v1
TO event_identities_v1
AS SELECT
    namespace,
    source,
    id,
    toDate(ingested_at) AS ingested_day,
    payload_fingerprint
FROM events_raw;

INSERT INTO event_identities_v1 (namespace, source, id, ingested_day, payload_fingerprint)
SELECT namespace, source, id, toDate(ingested_at), payload_fingerprint
FROM events_raw;
