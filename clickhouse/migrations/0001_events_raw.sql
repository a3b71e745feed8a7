-- Raw CloudEvents, one row per accepted event.
-- Identity of an event is (namespace, source, id), as in the CloudEvents spec. The sink-worker
-- drops an event whose identity is already stored before it is inserted (so materialized views
-- never see a duplicate); this ReplacingMergeTree is the second line of defence, collapsing an
-- exact redelivery of the same broker message (same sort key) at merge time or under FINAL.
-- ingest_seq is the broker offset of the message: deterministic across replays, never now().
CREATE TABLE IF NOT EXISTS events_raw
(
    namespace   String,
    id          String,
    source      String,
    type        String,
    subject     String,
    time        DateTime('UTC'),
    time_ms     UInt64,
    data        String,
    ingested_at DateTime('UTC'),
    ingest_seq  UInt64
)
ENGINE = ReplacingMergeTree(ingest_seq)
PARTITION BY toYYYYMM(time)
ORDER BY (namespace, type, subject, time, source, id);
