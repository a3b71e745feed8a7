import { requireOrganizationId } from '@polaris/shared/contracts';
import type { BillingAnchor, BillingPeriod } from '@polaris/shared/billing';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseRows } from '../rows';
import { priceSchema } from '../billing/catalog-rows';
import { findCustomer, type CustomerRef } from '../billing/customers.repository';
import { notificationEvents } from '../notifications/notification-events.repository';
import { isUuid, thresholdNotFound } from './threshold-input';
import type { ThresholdFiring, ThresholdKind } from './threshold-records';
import { FIRING_COLUMNS, firingRowSchema, THRESHOLDS_JOINED } from './threshold-rows';
import type { WatchedSubscription } from './threshold-terms';

// The firings of usage thresholds, and what the evaluation job reads to decide them (README "Usage
// thresholds", docs/ARCHITECTURE.md "Exactly-once threshold firings"). A firing is the row
// (threshold_id, period_start): inserting it and recording its notification event happen in one
// transaction, so the event exists exactly once per threshold and period.

/** An active threshold as the evaluation job needs it: its terms, whose usage, and the periods it follows. */
export interface WatchedThreshold {
  id: string;
  organizationId: string;
  customerId: string;
  customerExternalId: string;
  customerTimeZone: string;
  subjects: string[];
  meterSlug: string;
  kind: ThresholdKind;
  quantity?: string;
  percent?: string;
  /** The customer's active subscription; undefined: calendar months in the customer's time zone. */
  subscription?: WatchedSubscription;
  /** Starts of the periods it already fired in, newest first (the last few only). */
  firedPeriodStarts: Date[];
}

const orgSchema = z.object({ organizationId: z.guid() });
const phaseSchema = z.object({ startsAt: z.coerce.date(), prices: z.array(priceSchema) });
const watchedSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  customerId: z.guid(),
  customerExternalId: z.string(),
  customerTimeZone: z.string(),
  subjects: z.array(z.string()),
  meterSlug: z.string(),
  kind: z.enum(['absolute', 'percent']),
  quantity: z.string().nullable(),
  percent: z.string().nullable(),
  billingAnchor: z.enum(['calendar', 'anniversary']).nullable(),
  startAt: z.date().nullable(),
  timeZone: z.string().nullable(),
  cancelAt: z.date().nullable(),
  phases: z.array(phaseSchema),
  firedPeriodStarts: z.array(z.date()),
});
const insertedSchema = z.object({ thresholdId: z.guid() });

/**
 * The organizations with at least one active threshold: the evaluation's only read across
 * organizations, through a SECURITY DEFINER function that answers ids alone.
 */
async function organizationsToEvaluate(db: Queryable): Promise<string[]> {
  const { rows } = await db.query('SELECT organization_id AS "organizationId" FROM polaris_orgs_with_active_thresholds()');
  return parseRows('thresholdFirings.organizations', orgSchema, rows).map((r) => r.organizationId);
}

/**
 * The organization's active thresholds on active meters of active customers, with their
 * customer's subjects, active subscription (schedule and phases' prices) and recent firings.
 */
async function watched(tx: Queryable, organizationId: string): Promise<WatchedThreshold[]> {
  requireOrganizationId(organizationId);
  const { rows } = await tx.query(
    `SELECT t.id, t.organization_id AS "organizationId", t.customer_id AS "customerId", c.external_id AS "customerExternalId",
            c.time_zone AS "customerTimeZone", m.slug AS "meterSlug", t.kind, t.quantity::text AS quantity, t.percent::text AS percent,
            ARRAY(SELECT cs.subject FROM customer_subjects cs
                   WHERE cs.organization_id = t.organization_id AND cs.customer_id = t.customer_id ORDER BY cs.subject COLLATE "C") AS subjects,
            s.billing_anchor AS "billingAnchor", s.start_at AS "startAt", s.time_zone AS "timeZone", s.cancel_at AS "cancelAt",
            COALESCE((SELECT json_agg(json_build_object('startsAt', ph.starts_at, 'prices', v.prices) ORDER BY ph.starts_at)
                        FROM subscription_phases ph JOIN plan_versions v ON v.id = ph.plan_version_id AND v.organization_id = ph.organization_id
                       WHERE ph.organization_id = s.organization_id AND ph.subscription_id = s.id), '[]'::json) AS phases,
            ARRAY(SELECT f.period_start FROM usage_threshold_firings f
                   WHERE f.organization_id = t.organization_id AND f.threshold_id = t.id ORDER BY f.period_start DESC LIMIT 3) AS "firedPeriodStarts"
       FROM ${THRESHOLDS_JOINED}
       LEFT JOIN subscriptions s ON s.organization_id = t.organization_id AND s.customer_id = t.customer_id AND s.status = 'active'
      WHERE t.organization_id = $1 AND t.status = 'active' AND c.status = 'active' AND m.status = 'active'
      ORDER BY m.slug, t.id`,
    [organizationId],
  );
  return parseRows('thresholdFirings.watched', watchedSchema, rows).map((r) => ({
    id: r.id,
    organizationId: r.organizationId,
    customerId: r.customerId,
    customerExternalId: r.customerExternalId,
    customerTimeZone: r.customerTimeZone,
    subjects: r.subjects,
    meterSlug: r.meterSlug,
    kind: r.kind,
    ...(r.quantity !== null ? { quantity: r.quantity } : {}),
    ...(r.percent !== null ? { percent: r.percent } : {}),
    ...(r.billingAnchor !== null && r.startAt !== null && r.timeZone !== null
      ? {
          subscription: {
            billingAnchor: r.billingAnchor satisfies BillingAnchor,
            startAt: r.startAt,
            timeZone: r.timeZone,
            ...(r.cancelAt !== null ? { cancelAt: r.cancelAt } : {}),
            phases: r.phases,
          },
        }
      : {}),
    firedPeriodStarts: r.firedPeriodStarts,
  }));
}

export interface FireInput {
  threshold: Pick<WatchedThreshold, 'id' | 'organizationId' | 'customerId' | 'customerExternalId' | 'meterSlug' | 'kind' | 'quantity' | 'percent'>;
  period: BillingPeriod;
  /** The limit in the meter's unit for this period. */
  limit: string;
  /** The usage read, at or above the limit. */
  observed: string;
  /** When the usage was read. */
  observedAt: Date;
}

/**
 * Records that a threshold fired in a period, with its `usage.threshold_crossed` event, in the
 * caller's transaction. True when this call fired it; false when it had already fired in that
 * period (or was archived meanwhile): then nothing is written.
 */
async function fire(tx: Queryable, input: FireInput): Promise<boolean> {
  const { threshold, period } = input;
  requireOrganizationId(threshold.organizationId);
  const { rows } = await tx.query(
    `INSERT INTO usage_threshold_firings (threshold_id, organization_id, period_start, period_end, limit_quantity, observed_quantity, fired_at)
     SELECT t.id, t.organization_id, $3, $4, $5::numeric, $6::numeric, $7
       FROM usage_thresholds t WHERE t.organization_id = $1 AND t.id = $2 AND t.status = 'active'
     ON CONFLICT (threshold_id, period_start) DO NOTHING
     RETURNING threshold_id AS "thresholdId"`,
    [threshold.organizationId, threshold.id, period.start, period.end, input.limit, input.observed, input.observedAt],
  );
  if (parseRows('thresholdFirings.insert', insertedSchema, rows).length === 0) return false;
  const eventId = await notificationEvents.record(tx, {
    organizationId: threshold.organizationId,
    type: 'usage.threshold_crossed',
    dedupeKey: `usage.threshold_crossed:${threshold.id}:${period.start.toISOString()}`,
    occurredAt: input.observedAt,
    // The catalogue's usage.threshold_crossed v1 (postgres/src/notifications/event-catalogue.ts).
    payload: {
      thresholdId: threshold.id,
      customerId: threshold.customerId,
      customerExternalId: threshold.customerExternalId,
      meterSlug: threshold.meterSlug,
      kind: threshold.kind,
      ...(threshold.percent !== undefined ? { percent: threshold.percent } : {}),
      periodStart: period.start.toISOString(),
      periodEnd: period.end.toISOString(),
      limitQuantity: input.limit,
      observedQuantity: input.observed,
    },
  });
  if (eventId) {
    await tx.query('UPDATE usage_threshold_firings SET notification_event_id = $3 WHERE threshold_id = $1 AND period_start = $2', [threshold.id, period.start, eventId]);
  }
  return true;
}

export interface ListFiringsInput {
  organizationId: string;
  /** A customer (by id or external id), a threshold, or neither (the organization's newest). */
  customer?: CustomerRef;
  thresholdId?: string;
  /** Only firings of the period starting here. */
  periodStart?: Date;
  /** Default 50, at most 200. */
  limit?: number;
}

/** Firings, newest first. */
async function list(tx: Queryable, input: ListFiringsInput): Promise<ThresholdFiring[]> {
  requireOrganizationId(input.organizationId);
  const customerId = input.customer ? (await findCustomer(tx, input.customer)).id : null;
  if (input.thresholdId !== undefined && input.thresholdId !== '' && !isUuid(input.thresholdId)) throw thresholdNotFound(input.thresholdId);
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
  const { rows } = await tx.query(
    `SELECT ${FIRING_COLUMNS}
       FROM usage_threshold_firings f JOIN ${THRESHOLDS_JOINED} ON t.id = f.threshold_id AND t.organization_id = f.organization_id
      WHERE f.organization_id = $1 AND ($2::uuid IS NULL OR t.customer_id = $2) AND ($3::uuid IS NULL OR f.threshold_id = $3)
        AND ($4::timestamptz IS NULL OR f.period_start = $4)
      ORDER BY f.fired_at DESC, f.threshold_id LIMIT $5`,
    [input.organizationId, customerId, input.thresholdId || null, input.periodStart ?? null, limit],
  );
  return parseRows('thresholdFirings.list', firingRowSchema, rows);
}

/** Which of a customer's thresholds fired in the period starting at `periodStart` (the upcoming invoice shows them). */
async function firedInPeriod(tx: Queryable, input: { organizationId: string; customerId: string; periodStart: Date }): Promise<ThresholdFiring[]> {
  requireOrganizationId(input.organizationId);
  const { rows } = await tx.query(
    `SELECT ${FIRING_COLUMNS}
       FROM usage_threshold_firings f JOIN ${THRESHOLDS_JOINED} ON t.id = f.threshold_id AND t.organization_id = f.organization_id
      WHERE f.organization_id = $1 AND t.customer_id = $2 AND f.period_start = $3
      ORDER BY f.fired_at, f.threshold_id`,
    [input.organizationId, input.customerId, input.periodStart],
  );
  return parseRows('thresholdFirings.firedInPeriod', firingRowSchema, rows);
}

export const thresholdFirings = { organizationsToEvaluate, watched, fire, list, firedInPeriod };
