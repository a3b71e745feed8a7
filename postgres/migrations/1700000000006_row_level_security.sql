-- Up Migration

-- Tenant isolation, wall 3 (docs/ARCHITECTURE.md, "Tenant isolation: three walls"): PostgreSQL
-- itself shows a service only the rows of the organization its transaction acts for, so a query
-- that forgets `WHERE organization_id = …` still cannot read or write another tenant's rows.
--
-- Two roles:
-- * the owner: whoever runs this migration (`polaris migrate`), which owns every table and is what
--   the operator CLI connects as. It must bypass row-level security (superuser or BYPASSRLS): the
--   operator works across organizations, and so do the SECURITY DEFINER functions below, which
--   it owns. Checked below, so a deployment where it would not fails here, loudly, instead of
--   scanning no subscription ever.
-- * polaris_app: what the services connect as (DATABASE_URL). Not superuser, not owner,
--   NOBYPASSRLS, DML only. `polaris migrate` gives it LOGIN and the password of APP_DATABASE_URL
--   (postgres/src/app-role.ts). Roles belong to the cluster, not the database: every database of
--   the cluster shares it (the local stack's throwaway test databases too).

-- The organization a transaction acts for, set by `withOrg` (postgres/src/tenant-scope.ts) with
-- set_config('polaris.org_id', <uuid>, true). NULL when unset, so every policy written as
-- `organization_id = polaris_current_org()` fails closed: a query outside withOrg sees no tenant row.
CREATE FUNCTION polaris_current_org() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('polaris.org_id', true), '')::uuid $$;

DO $$
BEGIN
  IF NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'role % runs the migrations and owns the tables, so it must bypass row-level security (superuser, or ALTER ROLE % BYPASSRLS): the operator CLI and the cross-organization functions of migration 006 read every tenant', current_user, current_user;
  END IF;
END $$;

-- Created here when missing (needs CREATEROLE; where the owner has none, a DBA creates it first).
-- Parallel migrations of two databases of one cluster may race to create it: the loser carries on.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'polaris_app') THEN
    CREATE ROLE polaris_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;

-- A pre-existing role with more power than this would make every policy moot: refuse it.
DO $$
BEGIN
  IF (SELECT rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication FROM pg_roles WHERE rolname = 'polaris_app') THEN
    RAISE EXCEPTION 'role polaris_app may not be superuser nor have BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION: ALTER ROLE polaris_app NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION';
  END IF;
END $$;

-- DML only: no TRUNCATE, REFERENCES, TRIGGER, no DDL (it owns nothing and may create nothing).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO polaris_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO polaris_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO polaris_app;
-- Organizations are made and renamed by the operator CLI only; the services read their own.
REVOKE INSERT, UPDATE, DELETE ON organizations FROM polaris_app;
-- The services check the schema is current (readiness); only migrate writes the bookkeeping.
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM polaris_app;
-- Tables and sequences of later migrations (run by the same owner) get the same grants; each
-- tenant table still needs its own policy (migration 007 onwards, and the test that checks it:
-- postgres/src/row-level-security.integration.test.ts).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO polaris_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO polaris_app;

-- Every tenant table: ENABLE applies the policy to polaris_app, FORCE to the owner too (it
-- bypasses by its BYPASSRLS, never by owning the table). Every child table carries
-- organization_id itself (migration 004 made children reference (id, organization_id) of their
-- parent), so each policy is a plain column comparison that an index can serve, rather than a
-- subquery through the parent on every row. api_keys names the column org_id.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'organization_rate_limits', 'meters', 'meter_versions', 'meter_backfill_runs',
    'customers', 'customer_subjects', 'plans', 'plan_versions', 'subscriptions', 'subscription_phases',
    'invoice_number_sequences', 'invoices', 'invoice_lines', 'invoice_events'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (organization_id = polaris_current_org()) WITH CHECK (organization_id = polaris_current_org())', t);
  END LOOP;
END $$;

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
  USING (org_id = polaris_current_org())
  WITH CHECK (org_id = polaris_current_org());

-- The tenant row itself: a service sees its own organization and no other.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations
  USING (id = polaris_current_org())
  WITH CHECK (id = polaris_current_org());

-- Not tenant data, so no policy: meter_catalog_revision (one global counter) and
-- sink_catalog_leases (which revision each sink process holds).

-- The only cross-organization reads of the services. Each returns the least that lets the caller
-- name an organization (ids, and what keyset paging needs); everything else is then read and
-- written inside withOrg. SECURITY DEFINER: they run as the owner, which bypasses row-level
-- security; search_path is pinned so a caller cannot slip its own objects in. Only polaris_app
-- (and the owner) may call them.

-- Identity: which organization an API key belongs to, before any organization is known.
CREATE FUNCTION polaris_active_api_key(key_sha256 bytea)
  RETURNS TABLE (api_key_id uuid, organization_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$ SELECT k.id, k.org_id FROM public.api_keys k WHERE k.secret_sha256 = key_sha256 AND k.revoked_at IS NULL $$;

-- The rating scan: periods due (subscriptions_due_idx) and drafts past their grace
-- (invoices_finalize_due_idx), oldest first, after a keyset cursor.
CREATE FUNCTION polaris_due_subscriptions(settle_ms bigint, after_period_end timestamptz, after_id uuid, max_rows integer)
  RETURNS TABLE (organization_id uuid, subscription_id uuid, billed_through timestamptz, next_period_end timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT s.organization_id, s.id, s.billed_through, s.next_period_end
      FROM public.subscriptions s
     WHERE s.status = 'active' AND s.next_period_end <= now() - settle_ms * interval '1 millisecond'
       AND (after_period_end IS NULL OR (s.next_period_end, s.id) > (after_period_end, after_id))
     ORDER BY s.next_period_end, s.id
     LIMIT max_rows
  $$;

CREATE FUNCTION polaris_drafts_due_for_finalization(after_finalize timestamptz, after_id uuid, max_rows integer)
  RETURNS TABLE (organization_id uuid, invoice_id uuid, finalize_after timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT i.organization_id, i.id, i.finalize_after
      FROM public.invoices i
     WHERE i.status = 'draft' AND i.finalize_after <= now()
       AND (after_finalize IS NULL OR (i.finalize_after, i.id) > (after_finalize, after_id))
     ORDER BY i.finalize_after, i.id
     LIMIT max_rows
  $$;

-- The sinks' meter catalog: every organization's live versions (what a sink must extract from
-- every event it stores, whoever sent it). The caller holds meter_catalog_revision FOR SHARE.
CREATE FUNCTION polaris_meter_catalog_versions()
  RETURNS TABLE (organization_id uuid, meter_slug text, meter_version_id bigint, catalog_revision bigint, definition jsonb)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT v.organization_id, m.slug, v.id, v.catalog_revision, v.definition
      FROM public.meter_versions v JOIN public.meters m ON m.id = v.meter_id AND m.organization_id = v.organization_id
     WHERE m.status = 'active' AND v.state IN ('backfilling', 'ready')
     ORDER BY v.id
  $$;

-- The backfill queue: the next run a worker may claim (locked FOR UPDATE SKIP LOCKED in the
-- caller's transaction, which then claims it under withOrg), and the organization of a run a
-- worker reports on by id.
CREATE FUNCTION polaris_next_backfill_candidate(lease_grace_ms bigint)
  RETURNS TABLE (run_id bigint, organization_id uuid)
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT r.id, r.organization_id
      FROM public.meter_backfill_runs r
      JOIN public.meter_versions v ON v.id = r.meter_version_id AND v.organization_id = r.organization_id
      JOIN public.meters m ON m.id = v.meter_id AND m.organization_id = v.organization_id
     WHERE (r.state = 'queued' OR (r.state = 'running' AND r.claimed_until < now()))
       AND m.status = 'active' AND v.state <> 'retired'
       AND NOT EXISTS (
         SELECT 1 FROM public.sink_catalog_leases l
          WHERE l.revision < v.catalog_revision AND l.expires_at > now() - lease_grace_ms * interval '1 millisecond')
     ORDER BY r.id
     LIMIT 1
       FOR UPDATE OF r SKIP LOCKED
  $$;

CREATE FUNCTION polaris_backfill_run_organization(run_id bigint) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$ SELECT r.organization_id FROM public.meter_backfill_runs r WHERE r.id = run_id $$;

DO $$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'polaris_active_api_key(bytea)',
    'polaris_due_subscriptions(bigint, timestamptz, uuid, integer)',
    'polaris_drafts_due_for_finalization(timestamptz, uuid, integer)',
    'polaris_meter_catalog_versions()',
    'polaris_next_backfill_candidate(bigint)',
    'polaris_backfill_run_organization(bigint)'
  ] LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO polaris_app', f);
  END LOOP;
END $$;

-- Down Migration
-- The role stays: it belongs to the cluster, and other databases of it may still use it.
DROP FUNCTION polaris_backfill_run_organization(bigint);
DROP FUNCTION polaris_next_backfill_candidate(bigint);
DROP FUNCTION polaris_meter_catalog_versions();
DROP FUNCTION polaris_drafts_due_for_finalization(timestamptz, uuid, integer);
DROP FUNCTION polaris_due_subscriptions(bigint, timestamptz, uuid, integer);
DROP FUNCTION polaris_active_api_key(bytea);
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'organizations', 'api_keys', 'organization_rate_limits', 'meters', 'meter_versions', 'meter_backfill_runs',
    'customers', 'customer_subjects', 'plans', 'plan_versions', 'subscriptions', 'subscription_phases',
    'invoice_number_sequences', 'invoices', 'invoice_lines', 'invoice_events'
  ] LOOP
    EXECUTE format('DROP POLICY tenant_isolation ON %I', t);
    EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
  END LOOP;
END $$;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM polaris_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM polaris_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM polaris_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM polaris_app;
REVOKE USAGE ON SCHEMA public FROM polaris_app;
DROP FUNCTION polaris_current_org();
