-- Up Migration

-- Billing (docs/billing.md): customers, plans with immutable published versions, subscriptions
-- and invoices. Every row carries organization_id, and children reference (id, organization_id)
-- of their parent, so a row can never point into another tenant.

CREATE TABLE customers (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  external_id     text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email           text NOT NULL DEFAULT '' CHECK (length(email) <= 320),
  currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  time_zone       text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, external_id),
  UNIQUE (id, organization_id)
);

-- A subject belongs to at most one customer at a time: the key is (org, subject).
CREATE TABLE customer_subjects (
  organization_id uuid NOT NULL,
  subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 256),
  customer_id     uuid NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, subject),
  FOREIGN KEY (customer_id, organization_id) REFERENCES customers (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX customer_subjects_customer_idx ON customer_subjects (customer_id, subject);

CREATE TABLE plans (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  key             text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description     text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, key),
  UNIQUE (id, organization_id)
);

-- Prices live in the version as a checked JSON array (shared/src/billing/price-input.ts is the
-- only writer's gate); a published version is frozen by the trigger below.
CREATE TABLE plan_versions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL,
  plan_id         uuid NOT NULL,
  version         integer NOT NULL CHECK (version >= 1),
  currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
  prices          jsonb NOT NULL CHECK (jsonb_typeof(prices) = 'array'),
  created_at      timestamptz NOT NULL DEFAULT now(),
  published_at    timestamptz,
  FOREIGN KEY (plan_id, organization_id) REFERENCES plans (id, organization_id) ON DELETE CASCADE,
  UNIQUE (plan_id, version),
  UNIQUE (id, organization_id),
  CHECK ((status = 'published') = (published_at IS NOT NULL))
);

CREATE FUNCTION plan_versions_freeze_published() RETURNS trigger AS $$
BEGIN
  IF OLD.status = 'published' THEN
    RAISE EXCEPTION 'plan version % is published and never changes', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER plan_versions_freeze_published BEFORE UPDATE ON plan_versions
  FOR EACH ROW EXECUTE FUNCTION plan_versions_freeze_published();

-- One active subscription per customer. Periods are computed in TS (shared/src/billing/periods.ts)
-- from anchor, start_at and time_zone; the row keeps the next period to invoice so the scheduler
-- finds due ones by index: [billed_through, next_period_end).
CREATE TABLE subscriptions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL,
  customer_id     uuid NOT NULL,
  billing_anchor  text NOT NULL CHECK (billing_anchor IN ('calendar', 'anniversary')),
  start_at        timestamptz NOT NULL,
  time_zone       text NOT NULL,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'canceled')),
  -- The end of the last period to bill, once canceled at period end.
  cancel_at       timestamptz,
  billed_through  timestamptz NOT NULL,
  next_period_end timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (customer_id, organization_id) REFERENCES customers (id, organization_id) ON DELETE CASCADE,
  UNIQUE (id, organization_id),
  CHECK (billed_through < next_period_end)
);
CREATE UNIQUE INDEX subscriptions_one_active_per_customer ON subscriptions (customer_id) WHERE status = 'active';
CREATE INDEX subscriptions_due_idx ON subscriptions (next_period_end) WHERE status = 'active';

-- Which plan version applies from when: a period is billed by the phase holding its start.
CREATE TABLE subscription_phases (
  subscription_id uuid NOT NULL,
  organization_id uuid NOT NULL,
  plan_version_id uuid NOT NULL,
  starts_at       timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription_id, starts_at),
  FOREIGN KEY (subscription_id, organization_id) REFERENCES subscriptions (id, organization_id) ON DELETE CASCADE,
  FOREIGN KEY (plan_version_id, organization_id) REFERENCES plan_versions (id, organization_id)
);

-- Invoice numbers per org, gap-free: taken in the finalizing transaction.
CREATE TABLE invoice_number_sequences (
  organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  last_number     bigint NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);

-- One invoice per (subscription, period): the unique key is what makes two racing workers
-- produce one invoice; the claim (claimed_by, claimed_until) is what lets only one compute it.
CREATE TABLE invoices (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid NOT NULL,
  customer_id      uuid NOT NULL,
  subscription_id  uuid NOT NULL,
  plan_version_id  uuid NOT NULL,
  number           text,
  period_start     timestamptz NOT NULL,
  period_end       timestamptz NOT NULL,
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'finalized', 'paid', 'void')),
  subtotal         numeric,
  total            numeric,
  lines_hash       text,
  usage_as_of      timestamptz,
  computed_at      timestamptz,
  rating_error     text,
  finalize_after   timestamptz NOT NULL,
  claimed_by       text,
  claimed_until    timestamptz,
  finalized_at     timestamptz,
  paid_at          timestamptz,
  voided_at        timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (customer_id, organization_id) REFERENCES customers (id, organization_id) ON DELETE CASCADE,
  FOREIGN KEY (subscription_id, organization_id) REFERENCES subscriptions (id, organization_id) ON DELETE CASCADE,
  FOREIGN KEY (plan_version_id, organization_id) REFERENCES plan_versions (id, organization_id),
  UNIQUE (subscription_id, period_start),
  UNIQUE (id, organization_id),
  UNIQUE (organization_id, number),
  CHECK (period_start < period_end),
  -- Finalized, paid and voided-after-finalize invoices have numbers and totals.
  CHECK (status = 'draft' OR status = 'void' OR (number IS NOT NULL AND total IS NOT NULL AND finalized_at IS NOT NULL))
);
CREATE INDEX invoices_finalize_due_idx ON invoices (finalize_after) WHERE status = 'draft';
CREATE INDEX invoices_org_created_idx ON invoices (organization_id, created_at DESC, id);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, period_start);

CREATE TABLE invoice_lines (
  invoice_id         uuid NOT NULL,
  organization_id    uuid NOT NULL,
  line_key           text NOT NULL,
  position           integer NOT NULL CHECK (position >= 0),
  kind               text NOT NULL CHECK (kind IN ('flat', 'usage', 'adjustment')),
  description        text NOT NULL,
  price_key          text NOT NULL,
  meter_slug         text,
  meter_version_id   text,
  usage_period_start timestamptz NOT NULL,
  usage_period_end   timestamptz NOT NULL,
  quantity           numeric,
  billable_quantity  numeric,
  unit_price         numeric,
  tiers              jsonb NOT NULL DEFAULT '[]'::jsonb,
  amount             numeric NOT NULL,
  period_quantity    numeric,
  PRIMARY KEY (invoice_id, line_key),
  FOREIGN KEY (invoice_id, organization_id) REFERENCES invoices (id, organization_id) ON DELETE CASCADE
);

-- What changed, who or what made it, when. Append-only.
CREATE TABLE invoice_events (
  id              bigserial PRIMARY KEY,
  invoice_id      uuid NOT NULL,
  organization_id uuid NOT NULL,
  action          text NOT NULL CHECK (action IN ('created', 'computed', 'recomputed', 'rating_failed', 'finalized', 'paid', 'voided')),
  from_status     text,
  to_status       text NOT NULL,
  actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
  at              timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (invoice_id, organization_id) REFERENCES invoices (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX invoice_events_invoice_idx ON invoice_events (invoice_id, id);

-- A finalized invoice never changes: its amounts, lines and period are frozen; only the status
-- moves on (finalized → paid | void) with its timestamp.
CREATE FUNCTION invoices_freeze_finalized() RETURNS trigger AS $$
BEGIN
  IF OLD.status <> 'draft' AND (
       NEW.subtotal IS DISTINCT FROM OLD.subtotal OR NEW.total IS DISTINCT FROM OLD.total
    OR NEW.lines_hash IS DISTINCT FROM OLD.lines_hash OR NEW.number IS DISTINCT FROM OLD.number
    OR NEW.period_start IS DISTINCT FROM OLD.period_start OR NEW.period_end IS DISTINCT FROM OLD.period_end
    OR NEW.currency IS DISTINCT FROM OLD.currency OR NEW.usage_as_of IS DISTINCT FROM OLD.usage_as_of) THEN
    RAISE EXCEPTION 'invoice % is % and never changes', OLD.id, OLD.status USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.status IN ('paid', 'void') AND NEW.status <> OLD.status THEN
    RAISE EXCEPTION 'invoice % is % already', OLD.id, OLD.status USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER invoices_freeze_finalized BEFORE UPDATE ON invoices
  FOR EACH ROW EXECUTE FUNCTION invoices_freeze_finalized();

CREATE FUNCTION invoice_lines_only_drafts() RETURNS trigger AS $$
DECLARE
  parent_status text;
BEGIN
  SELECT status INTO parent_status FROM invoices WHERE id = COALESCE(NEW.invoice_id, OLD.invoice_id);
  IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
    RAISE EXCEPTION 'invoice % is % and its lines never change', COALESCE(NEW.invoice_id, OLD.invoice_id), parent_status USING ERRCODE = 'check_violation';
  END IF;
  RETURN COALESCE(NEW, OLD);
END $$ LANGUAGE plpgsql;
CREATE TRIGGER invoice_lines_only_drafts BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
  FOR EACH ROW EXECUTE FUNCTION invoice_lines_only_drafts();

-- billing:read (customers, plans, subscriptions, invoices, the estimate), billing:write (manage
-- them and act on invoices), admin (operator pages such as the rating queues' bull-board).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['events:write', 'usage:read', 'meters:write', 'billing:read', 'billing:write', 'admin']::text[]
);

-- Down Migration

ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['events:write', 'usage:read', 'meters:write']::text[]
);
DROP TABLE invoice_events;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE invoice_number_sequences;
DROP TABLE subscription_phases;
DROP TABLE subscriptions;
DROP TABLE plan_versions;
DROP TABLE plans;
DROP TABLE customer_subjects;
DROP TABLE customers;
DROP FUNCTION invoice_lines_only_drafts();
DROP FUNCTION invoices_freeze_finalized();
DROP FUNCTION plan_versions_freeze_published();
