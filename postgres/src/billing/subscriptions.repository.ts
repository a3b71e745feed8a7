import { requireOrganizationId } from '@polaris/shared/contracts';
import { BILLING_ANCHORS, firstPeriod, truncateToMinute, type BillingAnchor } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { isUniqueViolation } from '../pg-errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { decodePageToken, encodePageToken, pageSize } from '../meters/page-token';
import type { Customer, PlanVersion, Subscription } from './billing-records';
import { customerArchived, isUuid, subscriptionNotFound } from './catalog-input';
import { PHASE_COLUMNS, PHASES_JOINED, phaseSchema, SUBSCRIPTION_COLUMNS, SUBSCRIPTIONS_JOINED, subscriptionRowSchema, type SubscriptionRow } from './catalog-rows';
import { customers, lockCustomer } from './customers.repository';
import { publishedVersion } from './plan-versions';
import { currentPeriod } from './subscription-periods';

// The `subscriptions` and `subscription_phases` tables, for one organization at a time. A customer
// has at most one active subscription; it bills monthly periods (shared/src/billing) from a
// published plan version, and a plan change is a new phase starting at a period boundary.

export interface CreateSubscriptionInput {
  organizationId: string;
  /** By id or by external id: exactly one. */
  customer: { customerId?: string; externalId?: string };
  planKey: string;
  /** 0 or unset: the newest published version. */
  planVersion?: number;
  /** Unset: now. Truncated to the minute. */
  startAt?: Date;
  /** Default: calendar. */
  billingAnchor?: BillingAnchor;
  /** Tests only: the clock. */
  now?: Date;
}

export interface SubscriptionRef {
  organizationId: string;
  subscriptionId: string;
}

export interface ChangeSubscriptionPlanInput extends SubscriptionRef {
  planKey: string;
  /** 0 or unset: the newest published version. */
  planVersion?: number;
  /** Unset: the next period boundary, the only instant there is (no proration yet). */
  effectiveAt?: Date;
  now?: Date;
}

export interface ListSubscriptionsInput {
  organizationId: string;
  /** Only this customer's subscriptions. */
  customerId?: string;
  pageSize?: number;
  pageToken?: string;
}

async function withPhases(db: Queryable, rows: readonly SubscriptionRow[]): Promise<Subscription[]> {
  const first = rows[0];
  if (!first) return [];
  const { rows: found } = await db.query(
    `SELECT ${PHASE_COLUMNS} FROM ${PHASES_JOINED} WHERE ph.organization_id = $1 AND ph.subscription_id = ANY($2::uuid[]) ORDER BY ph.starts_at`,
    [first.organizationId, rows.map((s) => s.id)],
  );
  const phases = parseRows('subscriptions.phases', phaseSchema, found);
  return rows.map((s) => ({ ...s, phases: phases.filter((p) => p.subscriptionId === s.id).map(({ subscriptionId: _, ...phase }) => phase) }));
}

async function select(db: Queryable, ref: SubscriptionRef, lock: boolean): Promise<Subscription> {
  requireOrganizationId(ref.organizationId);
  if (!isUuid(ref.subscriptionId)) throw subscriptionNotFound(ref.subscriptionId);
  const { rows } = await db.query(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM ${SUBSCRIPTIONS_JOINED} WHERE s.organization_id = $1 AND s.id = $2::uuid${lock ? ' FOR UPDATE OF s' : ''}`,
    [ref.organizationId, ref.subscriptionId],
  );
  const row = parseFirstRow('subscriptions.get', subscriptionRowSchema, rows);
  if (!row) throw subscriptionNotFound(ref.subscriptionId);
  const [shown] = await withPhases(db, [row]);
  if (!shown) throw subscriptionNotFound(ref.subscriptionId);
  return shown;
}

function anchorOf(value: string | undefined): BillingAnchor {
  if (value === undefined || value === '') return 'calendar';
  if (!(BILLING_ANCHORS as readonly string[]).includes(value)) {
    throw new PolarisError('invalid_argument', 'invalid_billing_anchor', `billing_anchor must be one of ${BILLING_ANCHORS.join(', ')}`, 'billing_anchor');
  }
  return value as BillingAnchor;
}

function planVersionOf(value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new PolarisError('invalid_argument', 'invalid_plan_version', 'plan_version must be a version number (0: the newest published)', 'plan_version');
  }
  return value;
}

/** The version's currency must be the customer's: an invoice has one currency. */
function requireSameCurrency(customer: Customer, version: PlanVersion): void {
  if (version.currency !== customer.currency) {
    throw new PolarisError(
      'failed_precondition',
      'currency_mismatch',
      `version ${version.version} of plan ${JSON.stringify(version.planKey)} is priced in ${version.currency}, customer ${JSON.stringify(customer.externalId)} is billed in ${customer.currency}`,
      'plan_key',
    );
  }
}

function validDate(value: Date | undefined, field: string): Date | undefined {
  if (value !== undefined && Number.isNaN(value.getTime())) throw new PolarisError('invalid_argument', `invalid_${field}`, `${field} is not a valid time`, field);
  return value;
}

/**
 * Subscribes an active customer without an active subscription to a published plan version in
 * the customer's currency, from start_at (truncated to the minute), in the customer's time zone.
 */
async function create(db: Transactable, input: CreateSubscriptionInput): Promise<Subscription> {
  requireOrganizationId(input.organizationId);
  const anchor = anchorOf(input.billingAnchor);
  const planVersion = planVersionOf(input.planVersion);
  const startAt = truncateToMinute(validDate(input.startAt, 'start_at') ?? input.now ?? new Date());
  return withOrg(db, input.organizationId, async (tx) => {
    // Locked: a currency change of the customer waits for this, and sees the subscription.
    const customer = await lockCustomer(tx, { organizationId: input.organizationId, ...input.customer });
    if (customer.status === 'archived') throw customerArchived(customer.externalId);
    const alreadySubscribed = new PolarisError(
      'failed_precondition',
      'customer_already_subscribed',
      `customer ${JSON.stringify(customer.externalId)} already has an active subscription; change its plan instead`,
      'customer',
    );
    const { rows: active } = await tx.query(`SELECT 1 FROM subscriptions WHERE organization_id = $1 AND customer_id = $2 AND status = 'active'`, [
      customer.organizationId,
      customer.id,
    ]);
    if (active.length > 0) throw alreadySubscribed;
    const version = await publishedVersion(tx, input.organizationId, input.planKey, planVersion);
    requireSameCurrency(customer, version);
    const schedule = { anchor, startAt, timeZone: customer.timeZone };
    const { end } = firstPeriod(schedule);
    let row: SubscriptionRow | undefined;
    try {
      const { rows } = await tx.query(
        `WITH s AS (
           INSERT INTO subscriptions (organization_id, customer_id, billing_anchor, start_at, time_zone, billed_through, next_period_end)
           VALUES ($1, $2, $3, $4, $5, $4, $6) RETURNING *
         )
         SELECT ${SUBSCRIPTION_COLUMNS} FROM s JOIN customers c ON c.id = s.customer_id AND c.organization_id = s.organization_id`,
        [customer.organizationId, customer.id, anchor, startAt, customer.timeZone, end],
      );
      row = parseFirstRow('subscriptions.create', subscriptionRowSchema, rows);
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadySubscribed;
      throw error;
    }
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    await tx.query('INSERT INTO subscription_phases (subscription_id, organization_id, plan_version_id, starts_at) VALUES ($1, $2, $3, $4)', [
      row.id,
      row.organizationId,
      version.id,
      startAt,
    ]);
    return select(tx, { organizationId: row.organizationId, subscriptionId: row.id }, false);
  });
}

/** The organization's subscription with this id. */
const get = (db: Transactable, ref: SubscriptionRef): Promise<Subscription> => withOrg(db, ref.organizationId, (tx) => select(tx, ref, false));

// Keyset pages by (start_at, id): start_at is whole minutes, so a JS Date holds it exactly.
const encodeAfter = (s: Subscription): string => encodePageToken(`${s.startAt.getTime()}:${s.id}`);
function decodeAfter(token: string | undefined): { startAt: Date; id: string } | undefined {
  const after = decodePageToken(token);
  if (after === undefined) return undefined;
  const [ms, id] = after.split(':');
  if (!ms || !/^\d{1,16}$/.test(ms) || !id || !isUuid(id)) {
    throw new PolarisError('invalid_argument', 'invalid_page_token', 'page_token is not a token this listing returned', 'page_token');
  }
  return { startAt: new Date(Number(ms)), id };
}

/** One page of an organization's subscriptions (or one customer's), oldest start first. */
async function list(db: Transactable, input: ListSubscriptionsInput): Promise<{ subscriptions: Subscription[]; nextPageToken?: string }> {
  requireOrganizationId(input.organizationId);
  const size = pageSize(input.pageSize);
  const after = decodeAfter(input.pageToken);
  return withOrg(db, input.organizationId, async (tx) => {
    const customerId = input.customerId ? (await customers.get(tx, { organizationId: input.organizationId, customerId: input.customerId })).id : null;
    const { rows } = await tx.query(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM ${SUBSCRIPTIONS_JOINED}
        WHERE s.organization_id = $1 AND ($2::uuid IS NULL OR s.customer_id = $2)
          AND ($3::timestamptz IS NULL OR (s.start_at, s.id) > ($3, $4::uuid))
        ORDER BY s.start_at, s.id LIMIT $5`,
      [input.organizationId, customerId, after?.startAt ?? null, after?.id ?? null, size + 1],
    );
    const found = parseRows('subscriptions.list', subscriptionRowSchema, rows);
    const page = await withPhases(tx, found.slice(0, size));
    const last = page.at(-1);
    return found.length > size && last ? { subscriptions: page, nextPageToken: encodeAfter(last) } : { subscriptions: page };
  });
}

function requireNotCanceled(s: Subscription): void {
  if (s.status === 'canceled' || s.cancelAt !== undefined) {
    const when = s.cancelAt ? ` at ${s.cancelAt.toISOString()}` : '';
    throw new PolarisError('failed_precondition', 'subscription_canceled', `subscription ${s.id} is canceled${when} and takes no more changes`, 'subscription_id');
  }
}

/**
 * The instant a change takes effect: the end of the period holding now (a period is billed by the
 * phase holding its start), or start_at itself while the subscription has not started.
 */
const nextBoundary = (s: Subscription, now: Date): Date => (now < s.startAt ? s.startAt : currentPeriod(s, now).end);

/**
 * Moves the subscription to another published version at the next period boundary. A change
 * already scheduled there is replaced; going back to the version in effect drops it.
 */
async function changePlan(db: Transactable, input: ChangeSubscriptionPlanInput): Promise<Subscription> {
  requireOrganizationId(input.organizationId);
  const planVersion = planVersionOf(input.planVersion);
  const effectiveAt = validDate(input.effectiveAt, 'effective_at');
  const now = input.now ?? new Date();
  return withOrg(db, input.organizationId, async (tx) => {
    const subscription = await select(tx, input, true);
    requireNotCanceled(subscription);
    const boundary = nextBoundary(subscription, now);
    if (effectiveAt !== undefined && effectiveAt.getTime() !== boundary.getTime()) {
      throw new PolarisError(
        'failed_precondition',
        'proration_not_supported',
        `a plan change takes effect at the next period boundary, ${boundary.toISOString()}; effective_at ${effectiveAt.toISOString()} ` +
          'would split a period, and proration is not supported yet (leave effective_at unset)',
        'effective_at',
      );
    }
    const customer = await customers.get(tx, { organizationId: subscription.organizationId, customerId: subscription.customerId });
    const version = await publishedVersion(tx, subscription.organizationId, input.planKey, planVersion);
    requireSameCurrency(customer, version);
    const inEffect = subscription.phases.filter((p) => p.startsAt < boundary).at(-1);
    const args = [subscription.organizationId, subscription.id, boundary];
    if (inEffect?.planVersionId === version.id) {
      await tx.query('DELETE FROM subscription_phases WHERE organization_id = $1 AND subscription_id = $2 AND starts_at >= $3', args);
    } else {
      await tx.query('DELETE FROM subscription_phases WHERE organization_id = $1 AND subscription_id = $2 AND starts_at > $3', args);
      await tx.query(
        `INSERT INTO subscription_phases (organization_id, subscription_id, starts_at, plan_version_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (subscription_id, starts_at) DO UPDATE SET plan_version_id = EXCLUDED.plan_version_id, created_at = now()`,
        [...args, version.id],
      );
    }
    await tx.query('UPDATE subscriptions SET updated_at = now() WHERE organization_id = $1 AND id = $2', [subscription.organizationId, subscription.id]);
    return select(tx, input, false);
  });
}

/**
 * Cancels at the end of the current period (the first one, before the subscription starts): that
 * period is billed, then the rating engine marks it canceled. A plan change scheduled after it is
 * dropped. Canceling twice is harmless.
 */
async function cancel(db: Transactable, input: SubscriptionRef & { now?: Date }): Promise<Subscription> {
  requireOrganizationId(input.organizationId);
  const now = input.now ?? new Date();
  return withOrg(db, input.organizationId, async (tx) => {
    const subscription = await select(tx, input, true);
    if (subscription.status === 'canceled' || subscription.cancelAt !== undefined) return subscription;
    const cancelAt = currentPeriod(subscription, now).end;
    const args = [subscription.organizationId, subscription.id, cancelAt];
    await tx.query('DELETE FROM subscription_phases WHERE organization_id = $1 AND subscription_id = $2 AND starts_at >= $3', args);
    await tx.query('UPDATE subscriptions SET cancel_at = $3, updated_at = now() WHERE organization_id = $1 AND id = $2', args);
    return select(tx, input, false);
  });
}

/** The `subscriptions` and `subscription_phases` tables, per organization: the only code that writes them. */
export const subscriptions = { create, get, list, changePlan, cancel };
