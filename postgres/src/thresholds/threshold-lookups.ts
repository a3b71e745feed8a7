import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow } from '../rows';
import { priceSchema } from '../billing/catalog-rows';
import { isPossibleSlug, meterNotFound } from '../meters/meter-input';
import { PolarisError } from '@polaris/shared/errors';
import type { WatchedSubscription } from './threshold-terms';

// What creating a threshold reads of the meters and billing tables, inside the caller's
// organization-scoped transaction (withOrg): the repositories of those tables scope their own
// transactions, which cannot nest in this one. Read-only.

const meterSchema = z.object({ id: z.guid(), slug: z.string(), status: z.enum(['active', 'archived']) });
const subscriptionSchema = z.object({
  billingAnchor: z.enum(['calendar', 'anniversary']),
  startAt: z.date(),
  timeZone: z.string(),
  cancelAt: z.date().nullable(),
  phases: z.array(z.object({ startsAt: z.coerce.date(), prices: z.array(priceSchema) })),
});

/** A meter of this organization by slug, refused by the field `meter` (unknown, another org's, archived). */
export async function meterOf(tx: Queryable, organizationId: string, slug: string): Promise<{ id: string; slug: string }> {
  const notFound = () => {
    const err = meterNotFound(slug);
    return new PolarisError(err.kind, err.code, err.message, 'meter');
  };
  if (!isPossibleSlug(slug)) throw notFound();
  const { rows } = await tx.query('SELECT m.id, m.slug, m.status FROM meters m WHERE m.organization_id = $1 AND m.slug = $2', [organizationId, slug]);
  const meter = parseFirstRow('usageThresholds.meter', meterSchema, rows);
  if (!meter) throw notFound();
  if (meter.status !== 'active') {
    throw new PolarisError('failed_precondition', 'meter_archived', `meter ${JSON.stringify(slug)} is archived: its usage no longer grows`, 'meter');
  }
  return { id: meter.id, slug: meter.slug };
}

/** The customer's active subscription: its schedule and its phases' prices, oldest first; undefined without one. */
export async function activeSubscriptionOf(tx: Queryable, organizationId: string, customerId: string): Promise<WatchedSubscription | undefined> {
  const { rows } = await tx.query(
    `SELECT s.billing_anchor AS "billingAnchor", s.start_at AS "startAt", s.time_zone AS "timeZone", s.cancel_at AS "cancelAt",
            COALESCE((SELECT json_agg(json_build_object('startsAt', ph.starts_at, 'prices', v.prices) ORDER BY ph.starts_at)
                        FROM subscription_phases ph JOIN plan_versions v ON v.id = ph.plan_version_id AND v.organization_id = ph.organization_id
                       WHERE ph.organization_id = s.organization_id AND ph.subscription_id = s.id), '[]'::json) AS phases
       FROM subscriptions s WHERE s.organization_id = $1 AND s.customer_id = $2 AND s.status = 'active'`,
    [organizationId, customerId],
  );
  const found = parseFirstRow('usageThresholds.subscription', subscriptionSchema, rows);
  if (!found) return undefined;
  const { cancelAt, ...rest } = found;
  return { ...rest, ...(cancelAt ? { cancelAt } : {}) };
}
