-- Up Migration

-- Usage thresholds (issue 12; README "Usage thresholds"). A threshold watches one customer's usage
-- of one meter within each billing period: an absolute quantity, or a percentage of the quantity
-- the customer's plan includes for that meter. It fires at most once per period: the firing is a
-- row unique on (threshold_id, period_start), inserted in the same transaction as its
-- `usage.threshold_crossed` notification event, so whatever repeats (replicas, restarts, replays,
-- backfills) a second insert finds the row and records nothing.

CREATE TABLE usage_thresholds (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  customer_id     uuid NOT NULL,
  meter_id        uuid NOT NULL,
  -- absolute: `quantity` in the meter's unit; percent: `percent` of the plan's included quantity.
  kind            text NOT NULL CHECK (kind IN ('absolute', 'percent')),
  quantity        numeric,
  percent         numeric,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  archived_at     timestamptz,
  CHECK (
    (kind = 'absolute' AND quantity > 0 AND percent IS NULL)
    OR (kind = 'percent' AND percent > 0 AND percent <= 1000 AND quantity IS NULL)
  ),
  FOREIGN KEY (customer_id, organization_id) REFERENCES customers (id, organization_id) ON DELETE CASCADE,
  FOREIGN KEY (meter_id, organization_id) REFERENCES meters (id, organization_id) ON DELETE CASCADE,
  UNIQUE (id, organization_id)
);
CREATE INDEX usage_thresholds_by_customer ON usage_thresholds (organization_id, customer_id, created_at);
CREATE INDEX usage_thresholds_active ON usage_thresholds (organization_id) WHERE status = 'active';

CREATE TABLE usage_threshold_firings (
  threshold_id      uuid NOT NULL,
  organization_id   uuid NOT NULL,
  -- The billing period the usage was read in: [period_start, period_end).
  period_start      timestamptz NOT NULL,
  period_end        timestamptz NOT NULL,
  -- The limit in the meter's unit when it fired (a percent threshold's, from the plan then).
  limit_quantity    numeric NOT NULL,
  observed_quantity numeric NOT NULL,
  -- The notification event recorded with it (the outbox row, same transaction).
  notification_event_id uuid,
  fired_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (threshold_id, period_start),
  FOREIGN KEY (threshold_id, organization_id) REFERENCES usage_thresholds (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX usage_threshold_firings_by_org ON usage_threshold_firings (organization_id, fired_at DESC);

ALTER TABLE usage_thresholds ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_thresholds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_thresholds
  USING (organization_id = polaris_current_org())
  WITH CHECK (organization_id = polaris_current_org());

ALTER TABLE usage_threshold_firings ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_threshold_firings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_threshold_firings
  USING (organization_id = polaris_current_org())
  WITH CHECK (organization_id = polaris_current_org());

-- The evaluation job's only cross-organization read: which organizations have an active
-- threshold. Ids only; each organization's thresholds are then read inside withOrg.
CREATE FUNCTION polaris_orgs_with_active_thresholds() RETURNS TABLE (organization_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$ SELECT DISTINCT t.organization_id FROM public.usage_thresholds t WHERE t.status = 'active' ORDER BY 1 $$;

-- Down Migration
DROP FUNCTION polaris_orgs_with_active_thresholds();
DROP TABLE usage_threshold_firings;
DROP TABLE usage_thresholds;
