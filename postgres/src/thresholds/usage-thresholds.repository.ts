import { requireOrganizationId } from '@polaris/shared/contracts';
import { PolarisError } from '@polaris/shared/errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { findCustomer } from '../billing/customers.repository';
import type { CustomerRef } from '../billing/customers.repository';
import { activeSubscriptionOf, meterOf } from './threshold-lookups';
import { isUuid, MAX_THRESHOLDS_PER_CUSTOMER, thresholdNotFound, thresholdTerms } from './threshold-input';
import type { UsageThreshold } from './threshold-records';
import { THRESHOLD_COLUMNS, THRESHOLDS_JOINED, thresholdRowSchema } from './threshold-rows';
import { includedQuantity, periodOf, pricesFor } from './threshold-terms';

// The usage_thresholds table (README "Usage thresholds"). Every function takes a transaction
// already scoped to the organization (withOrg) and also filters by it: row-level security is the
// second fence, not the only one.

export interface CreateThresholdInput extends CustomerRef {
  /** The meter's slug. */
  meter: string;
  /** Exactly one of the two. */
  quantity?: string;
  percent?: string;
}

/**
 * A percent threshold needs something to be a percentage of: the customer's active subscription's
 * plan (the version billing its current period) must include a quantity of the meter.
 */
async function requireIncludedQuantity(tx: Queryable, organizationId: string, customerId: string, meterSlug: string, now: Date): Promise<void> {
  const refuse = (why: string) =>
    new PolarisError('failed_precondition', 'no_included_quantity', `a percent threshold is a percentage of the quantity the customer's plan includes for meter ${JSON.stringify(meterSlug)}, and ${why}; give an absolute quantity instead`, 'percent');
  const subscription = await activeSubscriptionOf(tx, organizationId, customerId);
  if (!subscription) throw refuse('the customer has no active subscription');
  const prices = pricesFor(subscription, periodOf(now, subscription.timeZone, subscription));
  if (includedQuantity(prices, meterSlug) === undefined) throw refuse('its plan includes none (no free quota on a price of that meter)');
}

async function byId(tx: Queryable, organizationId: string, id: string): Promise<UsageThreshold | undefined> {
  const { rows } = await tx.query(`SELECT ${THRESHOLD_COLUMNS} FROM ${THRESHOLDS_JOINED} WHERE t.organization_id = $1 AND t.id = $2`, [organizationId, id]);
  return parseFirstRow('usageThresholds.byId', thresholdRowSchema, rows);
}

/**
 * Creates a threshold on one customer × meter. Refused, naming the field: a customer or meter not
 * of this organization (not_found: `customer_id`/`external_id`, `meter`), an archived meter
 * (`meter`), a quantity not above 0 (`quantity`), a percent outside (0, 1000] or for a customer
 * whose plan includes none of the meter (`percent`).
 */
async function create(tx: Queryable, input: CreateThresholdInput, now: Date = new Date()): Promise<UsageThreshold> {
  requireOrganizationId(input.organizationId);
  const terms = thresholdTerms(input);
  const customer = await findCustomer(tx, input);
  if (customer.status !== 'active') {
    throw new PolarisError('failed_precondition', 'customer_archived', `customer ${JSON.stringify(customer.externalId)} is archived`, input.customerId ? 'customer_id' : 'external_id');
  }
  const meter = await meterOf(tx, input.organizationId, input.meter);
  if (terms.kind === 'percent') await requireIncludedQuantity(tx, input.organizationId, customer.id, meter.slug, now);
  // Lock the customer's thresholds' count: two creates racing past the limit would both pass a plain count.
  await tx.query('SELECT 1 FROM customers WHERE organization_id = $1 AND id = $2 FOR UPDATE', [input.organizationId, customer.id]);
  const { rows: counted } = await tx.query(
    `SELECT count(*)::int AS n FROM usage_thresholds WHERE organization_id = $1 AND customer_id = $2 AND status = 'active'`,
    [input.organizationId, customer.id],
  );
  if (((counted[0] as { n?: number } | undefined)?.n ?? 0) >= MAX_THRESHOLDS_PER_CUSTOMER) {
    throw new PolarisError('failed_precondition', 'too_many_thresholds', `a customer has at most ${MAX_THRESHOLDS_PER_CUSTOMER} active usage thresholds; archive one first`, 'customer_id');
  }
  const { rows } = await tx.query(
    `INSERT INTO usage_thresholds (organization_id, customer_id, meter_id, kind, quantity, percent)
     VALUES ($1, $2, $3, $4, $5::numeric, $6::numeric) RETURNING id`,
    [input.organizationId, customer.id, meter.id, terms.kind, terms.kind === 'absolute' ? terms.quantity : null, terms.kind === 'percent' ? terms.percent : null],
  );
  const id = (rows[0] as { id: string }).id;
  const created = await byId(tx, input.organizationId, id);
  if (!created) throw new Error(`usage threshold ${id} vanished after its insert`);
  return created;
}

async function get(tx: Queryable, input: { organizationId: string; thresholdId: string }): Promise<UsageThreshold> {
  requireOrganizationId(input.organizationId);
  if (!isUuid(input.thresholdId)) throw thresholdNotFound(input.thresholdId);
  const found = await byId(tx, input.organizationId, input.thresholdId);
  if (!found) throw thresholdNotFound(input.thresholdId);
  return found;
}

/** A customer's thresholds, oldest first (at most MAX_THRESHOLDS_PER_CUSTOMER active ones; archived ones when asked). */
async function list(tx: Queryable, input: CustomerRef & { includeArchived?: boolean }): Promise<UsageThreshold[]> {
  requireOrganizationId(input.organizationId);
  const customer = await findCustomer(tx, input);
  const { rows } = await tx.query(
    `SELECT ${THRESHOLD_COLUMNS} FROM ${THRESHOLDS_JOINED}
      WHERE t.organization_id = $1 AND t.customer_id = $2 AND ($3 OR t.status = 'active')
      ORDER BY t.created_at, t.id LIMIT 1000`,
    [input.organizationId, customer.id, input.includeArchived === true],
  );
  return parseRows('usageThresholds.list', thresholdRowSchema, rows);
}

/**
 * Archives a threshold: it is no longer evaluated, and its firings stay (they happened). Archiving
 * an archived one answers it as it is.
 */
async function archive(tx: Queryable, input: { organizationId: string; thresholdId: string }): Promise<UsageThreshold> {
  const found = await get(tx, input);
  if (found.status === 'archived') return found;
  await tx.query(`UPDATE usage_thresholds SET status = 'archived', archived_at = now() WHERE organization_id = $1 AND id = $2`, [input.organizationId, found.id]);
  return get(tx, input);
}

export const usageThresholds = { create, get, list, archive };
