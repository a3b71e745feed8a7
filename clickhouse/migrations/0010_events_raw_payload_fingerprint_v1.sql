-- What the sink fingerprinted of each event's payload (everything but its identity and receipt
-- time: type, subject, time_ms, data), so that a later copy of the same (namespace, source, id)
-- with a different payload is told apart from a plain retry (docs/ARCHITECTURE.md, "Idempotency":
-- the first copy is kept, the conflicting one dead-lettered as conflicting_duplicate).
-- UInt64 as the sink computes it (the first 8 bytes of a SHA-256); rows stored before this
-- migration read 0, "unknown", which is never taken for a conflict.
ALTER TABLE events_raw ADD COLUMN payload_fingerprint UInt64;
