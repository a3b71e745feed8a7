-- Up Migration

-- The meter catalog (docs/meters.md, "Catalog revisions, leases and backfill"). Every change to
-- what sinks must extract bumps the one catalog revision, in the transaction that makes it.
CREATE TABLE meter_catalog_revision (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision  bigint NOT NULL CHECK (revision >= 0)
);
INSERT INTO meter_catalog_revision (singleton, revision) VALUES (true, 0);

-- A meter: its slug is the `metric` of the API, unique per organization (archived ones included).
CREATE TABLE meters (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  slug            text NOT NULL CHECK (slug ~ '^[a-z][a-z0-9_]{0,62}$'),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description     text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, slug),
  -- Lets versions and runs reference (id, organization_id): a row can never change tenant.
  UNIQUE (id, organization_id)
);

-- What a meter measures, one row per definition. The id is the meter_version_id of ClickHouse,
-- never reused. `segments` say which backfill run answers for which range of event time.
CREATE TABLE meter_versions (
  id               bigserial PRIMARY KEY,
  organization_id  uuid NOT NULL,
  meter_id         uuid NOT NULL,
  version          integer NOT NULL CHECK (version >= 1),
  definition       jsonb NOT NULL,
  catalog_revision bigint NOT NULL CHECK (catalog_revision >= 1),
  state            text NOT NULL CHECK (state IN ('backfilling', 'ready', 'retired')),
  segments         jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(segments) = 'array'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (meter_id, organization_id) REFERENCES meters (id, organization_id) ON DELETE CASCADE,
  UNIQUE (meter_id, version),
  UNIQUE (id, organization_id)
);

-- The catalog sinks load: live versions only.
CREATE INDEX meter_versions_live_idx ON meter_versions (meter_id) WHERE state <> 'retired';

-- One attempt at rebuilding a version from stored events. The id is the `backfill_run` of the
-- rollups (0 there means live, and bigserial starts at 1). from_ms/to_ms: event time, UTC days,
-- NULL = unbounded.
CREATE TABLE meter_backfill_runs (
  id               bigserial PRIMARY KEY,
  organization_id  uuid NOT NULL,
  meter_version_id bigint NOT NULL,
  from_ms          bigint CHECK (from_ms >= 0),
  to_ms            bigint,
  state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'completed', 'failed', 'superseded')),
  events_done      bigint NOT NULL DEFAULT 0 CHECK (events_done >= 0),
  events_total     bigint NOT NULL DEFAULT 0 CHECK (events_total >= 0),
  claimed_by       text,
  claimed_until    timestamptz,
  attempts         integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
  error            text,
  -- The fresh run that took over when this one's claim expired.
  superseded_by    bigint REFERENCES meter_backfill_runs (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (meter_version_id, organization_id) REFERENCES meter_versions (id, organization_id) ON DELETE CASCADE,
  CHECK (from_ms IS NULL OR to_ms IS NULL OR from_ms < to_ms),
  CHECK (state <> 'running' OR (claimed_by IS NOT NULL AND claimed_until IS NOT NULL))
);

CREATE INDEX meter_backfill_runs_active_idx ON meter_backfill_runs (id) WHERE state IN ('queued', 'running');
CREATE INDEX meter_backfill_runs_version_idx ON meter_backfill_runs (meter_version_id, id);

-- The revision each storing sink holds, until when. A backfill of a version waits until every
-- lease (expired less than a grace ago included) holds that version's revision or a later one.
CREATE TABLE sink_catalog_leases (
  instance_id text PRIMARY KEY CHECK (length(instance_id) BETWEEN 1 AND 200),
  revision    bigint NOT NULL CHECK (revision >= 0),
  expires_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE sink_catalog_leases;
DROP TABLE meter_backfill_runs;
DROP TABLE meter_versions;
DROP TABLE meters;
DROP TABLE meter_catalog_revision;
