import { z } from 'zod';
import type { ThresholdFiring, UsageThreshold } from './threshold-records';

// The rows of usage_thresholds and usage_threshold_firings checked with zod, and the column lists
// that produce them (every query of a kind selects the same columns, so one schema fits).

const optionalText = z.string().nullable().transform((v) => v ?? undefined);
const optionalDate = z.date().nullable().transform((v) => v ?? undefined);

export const thresholdRowSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  customerId: z.guid(),
  customerExternalId: z.string(),
  meterSlug: z.string(),
  kind: z.enum(['absolute', 'percent']),
  quantity: optionalText,
  percent: optionalText,
  status: z.enum(['active', 'archived']),
  createdAt: z.date(),
  archivedAt: optionalDate,
}) satisfies z.ZodType<UsageThreshold>;

/** Numerics as text (exact), trailing zeros trimmed by the caller's canonical form. */
export const THRESHOLD_COLUMNS = `t.id, t.organization_id AS "organizationId", t.customer_id AS "customerId", c.external_id AS "customerExternalId",
  m.slug AS "meterSlug", t.kind, t.quantity::text AS quantity, t.percent::text AS percent, t.status, t.created_at AS "createdAt",
  t.archived_at AS "archivedAt"`;
/** Every join repeats organization_id: a threshold, its customer and its meter share one tenant. */
export const THRESHOLDS_JOINED = `usage_thresholds t
  JOIN customers c ON c.id = t.customer_id AND c.organization_id = t.organization_id
  JOIN meters m ON m.id = t.meter_id AND m.organization_id = t.organization_id`;

export const firingRowSchema = z.object({
  thresholdId: z.guid(),
  organizationId: z.guid(),
  customerId: z.guid(),
  customerExternalId: z.string(),
  meterSlug: z.string(),
  kind: z.enum(['absolute', 'percent']),
  percent: optionalText,
  periodStart: z.date(),
  periodEnd: z.date(),
  limitQuantity: z.string(),
  observedQuantity: z.string(),
  notificationEventId: z.guid().nullable().transform((v) => v ?? undefined),
  firedAt: z.date(),
}) satisfies z.ZodType<ThresholdFiring>;

/** Needs `FROM usage_threshold_firings f JOIN <THRESHOLDS_JOINED> ON t.id = f.threshold_id`. */
export const FIRING_COLUMNS = `f.threshold_id AS "thresholdId", f.organization_id AS "organizationId", t.customer_id AS "customerId",
  c.external_id AS "customerExternalId", m.slug AS "meterSlug", t.kind, t.percent::text AS percent, f.period_start AS "periodStart",
  f.period_end AS "periodEnd", f.limit_quantity::text AS "limitQuantity", f.observed_quantity::text AS "observedQuantity",
  f.notification_event_id AS "notificationEventId", f.fired_at AS "firedAt"`;
