import { BILLING_ANCHORS, PRICE_MODELS, type Price } from '@polaris/shared/billing';
import { z } from 'zod';
import type { Customer, PlanVersion } from './billing-records';

// The rows of the catalog tables (customers, plans, plan versions, subscriptions) checked with zod,
// and the column lists that produce them: every query of a kind selects the same columns, so one
// schema fits. The shapes are the interfaces of billing-records.ts.

/** Exact decimal text as checkPrices writes it: no sign (prices are never negative), no exponent. */
const decimalText = z.string().regex(/^\d+(\.\d+)?$/);
/** A nullable timestamp column as an optional field. */
const optionalDate = z
  .date()
  .nullable()
  .transform((value) => value ?? undefined);

const tierSchema = z.object({
  from: decimalText,
  upTo: decimalText.optional(),
  unitPrice: decimalText,
  flatFee: decimalText,
});

/**
 * A price read back from plan_versions.prices. Only checked prices are ever written (checkPrices,
 * in plan-versions.ts), so this checks the shape, not the pricing rules again: a rule made
 * stricter later must not make stored, published versions unreadable.
 */
export const priceSchema = z.object({
  key: z.string(),
  name: z.string(),
  model: z.enum(PRICE_MODELS),
  meterSlug: z.string().optional(),
  amount: decimalText.optional(),
  unitPrice: decimalText.optional(),
  tiers: z.array(tierSchema).optional(),
  packageSize: decimalText.optional(),
  packagePrice: decimalText.optional(),
  freeQuota: decimalText,
}) satisfies z.ZodType<Price>;

export const customerRowSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  externalId: z.string(),
  name: z.string(),
  email: z.string(),
  currency: z.string(),
  timeZone: z.string(),
  subjects: z.array(z.string()),
  status: z.enum(['active', 'archived']),
  createdAt: z.date(),
  updatedAt: z.date(),
}) satisfies z.ZodType<Customer>;
/** Needs `FROM customers c`. Subjects sorted by code point (COLLATE "C"), as a JS sort would. */
export const CUSTOMER_COLUMNS = `c.id, c.organization_id AS "organizationId", c.external_id AS "externalId", c.name, c.email, c.currency,
  c.time_zone AS "timeZone",
  ARRAY(SELECT cs.subject FROM customer_subjects cs
         WHERE cs.organization_id = c.organization_id AND cs.customer_id = c.id ORDER BY cs.subject COLLATE "C") AS subjects,
  c.status, c.created_at AS "createdAt", c.updated_at AS "updatedAt"`;

export const planRowSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  key: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(['active', 'archived']),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type PlanRow = z.infer<typeof planRowSchema>;
/** Needs `FROM plans p`. */
export const PLAN_COLUMNS = `p.id, p.organization_id AS "organizationId", p.key, p.name, p.description, p.status,
  p.created_at AS "createdAt", p.updated_at AS "updatedAt"`;

export const planVersionSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  planId: z.guid(),
  planKey: z.string(),
  version: z.number().int().positive(),
  currency: z.string(),
  status: z.enum(['draft', 'published']),
  prices: z.array(priceSchema),
  createdAt: z.date(),
  publishedAt: optionalDate,
}) satisfies z.ZodType<PlanVersion>;
/** Needs `FROM plan_versions v JOIN plans p` (VERSIONS_JOINED). */
export const VERSION_COLUMNS = `v.id, v.organization_id AS "organizationId", v.plan_id AS "planId", p.key AS "planKey", v.version,
  v.currency, v.status, v.prices, v.created_at AS "createdAt", v.published_at AS "publishedAt"`;
/** The join repeats organization_id: a version and its plan always share one tenant. */
export const VERSIONS_JOINED = 'plan_versions v JOIN plans p ON p.id = v.plan_id AND p.organization_id = v.organization_id';

export const subscriptionRowSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  customerId: z.guid(),
  customerExternalId: z.string(),
  billingAnchor: z.enum(BILLING_ANCHORS),
  startAt: z.date(),
  timeZone: z.string(),
  status: z.enum(['active', 'canceled']),
  cancelAt: optionalDate,
  billedThrough: z.date(),
  nextPeriodEnd: z.date(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type SubscriptionRow = z.infer<typeof subscriptionRowSchema>;
/** Needs `FROM subscriptions s JOIN customers c` (SUBSCRIPTIONS_JOINED). */
export const SUBSCRIPTION_COLUMNS = `s.id, s.organization_id AS "organizationId", s.customer_id AS "customerId", c.external_id AS "customerExternalId",
  s.billing_anchor AS "billingAnchor", s.start_at AS "startAt", s.time_zone AS "timeZone", s.status, s.cancel_at AS "cancelAt",
  s.billed_through AS "billedThrough", s.next_period_end AS "nextPeriodEnd", s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;
export const SUBSCRIPTIONS_JOINED = 'subscriptions s JOIN customers c ON c.id = s.customer_id AND c.organization_id = s.organization_id';

export const phaseSchema = z.object({
  subscriptionId: z.guid(),
  planVersionId: z.guid(),
  planKey: z.string(),
  planVersion: z.number().int().positive(),
  startsAt: z.date(),
});
/** Needs `FROM subscription_phases ph` joined to its version and plan (PHASES_JOINED). */
export const PHASE_COLUMNS = `ph.subscription_id AS "subscriptionId", ph.plan_version_id AS "planVersionId", p.key AS "planKey",
  v.version AS "planVersion", ph.starts_at AS "startsAt"`;
export const PHASES_JOINED = `subscription_phases ph
  JOIN plan_versions v ON v.id = ph.plan_version_id AND v.organization_id = ph.organization_id
  JOIN plans p ON p.id = v.plan_id AND p.organization_id = v.organization_id`;
