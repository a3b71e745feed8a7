-- Up Migration

-- An organization is the tenant. Its id is also the ClickHouse namespace of its events.
CREATE TABLE organizations (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as a sha256 of the whole secret; only the prefix is ever shown again.
CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  prefix        text NOT NULL UNIQUE,
  secret_sha256 bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
  scopes        text[] NOT NULL CHECK (
                  cardinality(scopes) > 0
                  AND scopes <@ ARRAY['events:write', 'usage:read']::text[]
                ),
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

CREATE INDEX api_keys_org_id_idx ON api_keys (org_id);

-- Down Migration
DROP TABLE api_keys;
DROP TABLE organizations;
