-- Up Migration

-- Every SECURITY DEFINER function runs as the owner, past row-level security, so its search_path
-- must be pinned with pg_temp last: otherwise a caller's temporary table or function of the same
-- name would be found first and run with the owner's rights. Migration 006 pins its functions;
-- these two (008, 009) pinned only `public` (pg_temp is then searched first) or nothing.
ALTER FUNCTION polaris_undispatched_notification_events(integer) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION polaris_stalled_webhook_deliveries(bigint, integer) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION polaris_orgs_with_active_thresholds() SET search_path = pg_catalog, public, pg_temp;

-- Down Migration
ALTER FUNCTION polaris_undispatched_notification_events(integer) SET search_path = public;
ALTER FUNCTION polaris_stalled_webhook_deliveries(bigint, integer) SET search_path = public;
ALTER FUNCTION polaris_orgs_with_active_thresholds() RESET search_path;
