-- Up Migration

-- An organization's own limit on the events it may send to the collector (`polaris org limits`);
-- an organization without a row gets the collector's default (RATE_LIMIT_EVENTS_PER_SECOND,
-- RATE_LIMIT_BURST). Identity returns it with every API key it validates. A table of its own
-- rather than columns of `organizations`: most organizations have none, and the limit changes
-- without touching the tenant row.
CREATE TABLE organization_rate_limits (
  organization_id   uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  -- The average rate, in events per second; `burst` is the most in any one second.
  events_per_second integer NOT NULL CHECK (events_per_second > 0),
  burst             integer NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (burst >= events_per_second)
);

-- Down Migration
DROP TABLE organization_rate_limits;
