-- Up Migration

-- Webhooks (issue 12): the endpoints an organization registers, one delivery per (notification
-- event, endpoint), and every HTTP attempt of a delivery. The rating-worker's notifier fans
-- events out of the outbox (notification_events, migration 007) into deliveries and sends them.

CREATE TABLE webhook_endpoints (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  url                text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  description        text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  -- The catalogue types this endpoint receives; empty = every type.
  event_types        text[] NOT NULL DEFAULT '{}',
  -- Standard Webhooks signing secret (`whsec_<base64>`). Kept readable: signing needs it. The
  -- previous one still signs (a second signature) until previous_secret_until, so receivers can
  -- switch without dropping deliveries.
  secret             text NOT NULL,
  previous_secret    text,
  previous_secret_until timestamptz,
  enabled            boolean NOT NULL DEFAULT true,
  disabled_reason    text,
  disabled_at        timestamptz,
  -- Where to say that the endpoint was disabled for failing.
  alert_email        text,
  -- The first failed attempt since the last success: failing longer than the configured time disables the endpoint.
  failing_since      timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, organization_id)
);
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (organization_id, created_at, id);

CREATE TABLE webhook_deliveries (
  -- Also the `webhook-id` header (`msg_<id without dashes>`): the same for every retry and replay.
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid NOT NULL,
  endpoint_id      uuid NOT NULL,
  event_id         uuid NOT NULL REFERENCES notification_events (id) ON DELETE CASCADE,
  event_type       text NOT NULL,
  -- pending: being tried (or waiting for a retry); delivered: a 2xx came back; failed: attempts
  -- exhausted or the endpoint disabled. A replay makes a delivery pending again.
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempt_count    integer NOT NULL DEFAULT 0,
  -- Replays asked for: part of the replay's job id, so each replay is queued once.
  replays          integer NOT NULL DEFAULT 0,
  last_error       text,
  last_attempt_at  timestamptz,
  delivered_at     timestamptz,
  -- Milliseconds, like a JS Date: the listing's page token carries it and must compare equal.
  created_at       timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (endpoint_id, organization_id) REFERENCES webhook_endpoints (id, organization_id) ON DELETE CASCADE,
  UNIQUE (event_id, endpoint_id),
  UNIQUE (id, organization_id)
);
CREATE INDEX webhook_deliveries_by_org ON webhook_deliveries (organization_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (updated_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
  id               bigserial PRIMARY KEY,
  organization_id  uuid NOT NULL,
  delivery_id      uuid NOT NULL,
  attempt_number   integer NOT NULL,
  -- initial | retry | replay
  trigger          text NOT NULL CHECK (trigger IN ('initial', 'retry', 'replay')),
  -- delivered | http_error | timeout | network_error | blocked_target
  outcome          text NOT NULL,
  response_status  integer,
  duration_ms      integer NOT NULL,
  -- The first bytes of the response body (capped), or the error's message.
  response_excerpt text NOT NULL DEFAULT '',
  error            text,
  started_at       timestamptz NOT NULL,
  FOREIGN KEY (delivery_id, organization_id) REFERENCES webhook_deliveries (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
  USING (organization_id = polaris_current_org())
  WITH CHECK (organization_id = polaris_current_org());

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries
  USING (organization_id = polaris_current_org())
  WITH CHECK (organization_id = polaris_current_org());

ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_attempts
  USING (organization_id = polaris_current_org())
  WITH CHECK (organization_id = polaris_current_org());

-- The notifier's only cross-organization reads: which events wait for their fan-out, and which
-- pending deliveries have not moved for a while (their queue job may have been lost between the
-- fan-out's commit and the queue add). Ids and org ids only; the work itself runs under withOrg.
CREATE FUNCTION polaris_undispatched_notification_events(max_rows integer)
  RETURNS TABLE (id uuid, organization_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT e.id, e.organization_id FROM notification_events e
     WHERE e.dispatched_at IS NULL
     ORDER BY e.created_at, e.id
     LIMIT max_rows
  $$;

CREATE FUNCTION polaris_stalled_webhook_deliveries(idle_ms bigint, max_rows integer)
  RETURNS TABLE (id uuid, organization_id uuid, replays integer)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT d.id, d.organization_id, d.replays FROM webhook_deliveries d
     WHERE d.status = 'pending' AND d.updated_at < now() - idle_ms * interval '1 millisecond'
     ORDER BY d.updated_at
     LIMIT max_rows
  $$;

-- Down Migration
DROP FUNCTION polaris_stalled_webhook_deliveries(bigint, integer);
DROP FUNCTION polaris_undispatched_notification_events(integer);
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
