-- Up Migration

-- The organization a transaction acts for, set by `withOrg` (postgres/src/tenant-scope.ts) with
-- set_config('polaris.org_id', <uuid>, true). NULL when unset, so every policy written as
-- `organization_id = polaris_current_org()` fails closed: a query outside withOrg sees no tenant row.
CREATE FUNCTION polaris_current_org() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('polaris.org_id', true), '')::uuid $$;

-- Down Migration
DROP FUNCTION polaris_current_org();
