-- Up Migration

-- The outbox of notification events (issue 12). A producer records an event in the same
-- transaction as the change it reports (an invoice finalized, a threshold crossed), so an event
-- exists if and only if its change committed. The notifier fans each event out to the org's
-- matching webhook endpoints and marks it `dispatched_at`; a crash between the two only repeats
-- the fan-out, which is idempotent (one delivery per event and endpoint).
CREATE TABLE notification_events (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  -- A catalogue type: invoice.created, invoice.finalized, invoice.paid, invoice.voided,
  -- usage.threshold_crossed, meter.backfill_completed, dead_letters.growing.
  type            text NOT NULL,
  -- The catalogue version of the payload's schema.
  schema_version  integer NOT NULL DEFAULT 1,
  payload         jsonb NOT NULL,
  -- What makes the event happen once: `invoice.finalized:<invoice id>`,
  -- `usage.threshold_crossed:<threshold id>:<period start>`. A second record is a no-op.
  dedupe_key      text NOT NULL,
  occurred_at     timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  dispatched_at   timestamptz,
  UNIQUE (organization_id, dedupe_key)
);
CREATE INDEX notification_events_undispatched ON notification_events (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX notification_events_by_org ON notification_events (organization_id, created_at DESC);

ALTER TABLE notification_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notification_events
  USING (organization_id = polaris_current_org())
  WITH CHECK (organization_id = polaris_current_org());

-- Down Migration
DROP TABLE notification_events;
