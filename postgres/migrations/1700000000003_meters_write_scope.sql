-- Up Migration

-- A key may manage meters (create, update, archive, backfill) only with the new scope
-- meters:write; reading usage and meters stays usage:read.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['events:write', 'usage:read', 'meters:write']::text[]
);

-- Down Migration

ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['events:write', 'usage:read']::text[]
);
