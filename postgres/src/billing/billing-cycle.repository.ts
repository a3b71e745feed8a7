import { requireOrganizationId } from '@polaris/shared/contracts';
import { periodStartingAt, type BillingPeriod, type Price } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { isUuid, subscriptionNotFound } from './catalog-input';
import { findCustomer } from './customers.repository';
import { priceSchema, subscriptionRowSchema, SUBSCRIPTION_COLUMNS, SUBSCRIPTIONS_JOINED, type SubscriptionRow } from './catalog-rows';
import { recordInvoiceEvent, requireActor } from './invoice-history';
import { scheduleOf } from './subscription-periods';
import { recordInvoiceNotification } from '../notifications/invoice-notifications';

// Where subscriptions stand in their billing cycle, for the rating-worker (docs/billing.md,
// "Rating"): which periods are due, opening one (its draft invoice and the subscription's move to
// the next period, in one transaction), and what rating a period reads from the catalog.

export interface DuePeriod {
  organizationId: string;
  subscriptionId: string;
  /** The period to invoice next: [billed_through, next_period_end). */
  period: BillingPeriod;
}

export interface OpenedPeriod {
  invoiceId: string;
  /** False when the invoice already existed (a retry, or the loser of a race). */
  created: boolean;
}

/** A plan version as rating reads it: its currency and prices, in version order. */
export interface RatedVersion {
  id: string;
  currency: string;
  prices: Price[];
}

/** Whose usage a subscription bills, and where its periods are cut. */
export interface RatedParty {
  customerId: string;
  timeZone: string;
  /** Sorted by code point. */
  subjects: string[];
}

/** A customer's active subscription and its phases (oldest first), for the estimate. */
export interface ActiveSubscription {
  subscription: SubscriptionRow;
  phases: Array<{ planVersionId: string; startsAt: Date }>;
}

const dueSchema = z.object({ organizationId: z.guid(), subscriptionId: z.guid(), billedThrough: z.date(), nextPeriodEnd: z.date() });
const lockedSchema = subscriptionRowSchema.extend({ due: z.boolean() });
const phaseSchema = z.object({ planVersionId: z.guid(), startsAt: z.date(), currency: z.string() });
const idSchema = z.object({ id: z.guid() });
const partySchema = z.object({ customerId: z.guid(), timeZone: z.string(), subjects: z.array(z.string()) });
const versionSchema = z.object({ id: z.guid(), currency: z.string(), prices: z.array(priceSchema) });

/**
 * Active subscriptions whose next period closed at least `settleMs` ago (events still in the
 * broker have landed), oldest first, after a keyset cursor. The scheduler's query, across
 * organizations (each row names its own), so through the SECURITY DEFINER function of migration
 * 006 (ids and the period only; each period is then opened under withOrg). subscriptions_due_idx
 * serves it.
 */
async function dueSubscriptions(
  db: Queryable,
  input: { settleMs: number; limit: number; after?: { periodEnd: Date; subscriptionId: string } },
): Promise<DuePeriod[]> {
  const { rows } = await db.query(
    `SELECT organization_id AS "organizationId", subscription_id AS "subscriptionId", billed_through AS "billedThrough", next_period_end AS "nextPeriodEnd"
       FROM polaris_due_subscriptions($1, $2::timestamptz, $3::uuid, $4)`,
    [input.settleMs, input.after?.periodEnd ?? null, input.after?.subscriptionId ?? null, input.limit],
  );
  return parseRows('billingCycle.due', dueSchema, rows).map((r) => ({
    organizationId: r.organizationId,
    subscriptionId: r.subscriptionId,
    period: { start: r.billedThrough, end: r.nextPeriodEnd },
  }));
}

/** The phase holding `instant` (the one that started last at or before it), with its version's currency. */
async function phaseAt(tx: Queryable, organizationId: string, subscriptionId: string, instant: Date): Promise<z.infer<typeof phaseSchema>> {
  const { rows } = await tx.query(
    `SELECT ph.plan_version_id AS "planVersionId", ph.starts_at AS "startsAt", v.currency
       FROM subscription_phases ph JOIN plan_versions v ON v.id = ph.plan_version_id AND v.organization_id = ph.organization_id
      WHERE ph.organization_id = $1 AND ph.subscription_id = $2 AND ph.starts_at <= $3
      ORDER BY ph.starts_at DESC LIMIT 1`,
    [organizationId, subscriptionId, instant],
  );
  const phase = parseFirstRow('billingCycle.phaseAt', phaseSchema, rows);
  // The first phase starts with the subscription: a period before it would be a bug.
  if (!phase) throw new Error(`subscription ${subscriptionId} has no phase holding ${instant.toISOString()}`);
  return phase;
}

/**
 * Opens the period starting at `periodStart`, in one transaction with the subscription locked:
 * inserts its draft invoice (billed by the phase holding the period's start, in that version's
 * currency, to be finalized `graceMs` after the period ends), moves the subscription on to the
 * next period, and ends it when it was canceled at this period's end. Opening a period already
 * opened answers the invoice it has; one not due yet, or of a subscription that ended or no longer
 * exists, answers undefined. The unique (subscription_id, period_start) makes one invoice whatever.
 */
async function openPeriod(
  db: Transactable,
  input: { organizationId: string; subscriptionId: string; periodStart: Date; settleMs: number; graceMs: number; actor: string },
): Promise<OpenedPeriod | undefined> {
  requireOrganizationId(input.organizationId);
  const actor = requireActor(input.actor);
  if (!isUuid(input.subscriptionId)) return undefined;
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `SELECT ${SUBSCRIPTION_COLUMNS}, s.next_period_end <= now() - $3 * interval '1 millisecond' AS due
         FROM ${SUBSCRIPTIONS_JOINED} WHERE s.organization_id = $1 AND s.id = $2 FOR UPDATE OF s`,
      [input.organizationId, input.subscriptionId, input.settleMs],
    );
    const sub = parseFirstRow('billingCycle.lockSubscription', lockedSchema, rows);
    if (!sub) return undefined;
    const start = input.periodStart.getTime();
    if (sub.billedThrough.getTime() > start) {
      const existing = await tx.query('SELECT id FROM invoices WHERE organization_id = $1 AND subscription_id = $2 AND period_start = $3', [
        input.organizationId,
        input.subscriptionId,
        input.periodStart,
      ]);
      const found = parseFirstRow('billingCycle.existingInvoice', idSchema, existing.rows);
      return found && { invoiceId: found.id, created: false };
    }
    if (sub.billedThrough.getTime() < start) {
      throw new PolarisError('failed_precondition', 'period_not_next', `period ${input.periodStart.toISOString()} is not the next one of subscription ${sub.id} (billed through ${sub.billedThrough.toISOString()})`);
    }
    if (sub.status !== 'active' || !sub.due) return undefined;

    const period = { start: sub.billedThrough, end: sub.nextPeriodEnd };
    const phase = await phaseAt(tx, input.organizationId, sub.id, period.start);
    const inserted = await tx.query(
      `INSERT INTO invoices (organization_id, customer_id, subscription_id, plan_version_id, period_start, period_end, currency, finalize_after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $6::timestamptz + $8 * interval '1 millisecond')
       ON CONFLICT (subscription_id, period_start) DO NOTHING
       RETURNING id`,
      [input.organizationId, sub.customerId, sub.id, phase.planVersionId, period.start, period.end, phase.currency, input.graceMs],
    );
    let opened: OpenedPeriod;
    const created = parseFirstRow('billingCycle.insertInvoice', idSchema, inserted.rows);
    if (created) {
      opened = { invoiceId: created.id, created: true };
      await recordInvoiceEvent(tx, {
        organizationId: input.organizationId,
        invoiceId: created.id,
        action: 'created',
        toStatus: 'draft',
        actor,
        detail: { periodStart: period.start.toISOString(), periodEnd: period.end.toISOString(), planVersionId: phase.planVersionId },
      });
      await recordInvoiceNotification(tx, { organizationId: input.organizationId, invoiceId: created.id, type: 'invoice.created' }); // webhooks outbox (issue 12)
    } else {
      const existing = await tx.query('SELECT id FROM invoices WHERE organization_id = $1 AND subscription_id = $2 AND period_start = $3', [
        input.organizationId,
        sub.id,
        period.start,
      ]);
      const found = parseFirstRow('billingCycle.conflictingInvoice', idSchema, existing.rows);
      if (!found) throw new Error(`invoice of subscription ${sub.id} at ${period.start.toISOString()} conflicted but cannot be read`);
      opened = { invoiceId: found.id, created: false };
    }

    const next = periodStartingAt(scheduleOf(sub), period.end);
    const ends = sub.cancelAt !== undefined && sub.cancelAt.getTime() <= period.end.getTime();
    await tx.query(
      `UPDATE subscriptions SET billed_through = $3, next_period_end = $4, status = CASE WHEN $5 THEN 'canceled' ELSE status END, updated_at = now()
        WHERE organization_id = $1 AND id = $2`,
      [input.organizationId, sub.id, next.start, next.end, ends],
    );
    return opened;
  });
}

/**
 * Whose usage a subscription's invoices bill: its customer, that customer's subjects (sorted by
 * code point; empty when it has none) and the subscription's time zone.
 */
async function partyOf(db: Transactable, organizationId: string, subscriptionId: string): Promise<RatedParty> {
  requireOrganizationId(organizationId);
  if (!isUuid(subscriptionId)) throw subscriptionNotFound(subscriptionId);
  const { rows } = await withOrg(db, organizationId, (tx) => tx.query(
    `SELECT s.customer_id AS "customerId", s.time_zone AS "timeZone",
            ARRAY(SELECT cs.subject FROM customer_subjects cs
                   WHERE cs.organization_id = s.organization_id AND cs.customer_id = s.customer_id ORDER BY cs.subject COLLATE "C") AS subjects
       FROM subscriptions s WHERE s.organization_id = $1 AND s.id = $2`,
    [organizationId, subscriptionId],
  ));
  const party = parseFirstRow('billingCycle.party', partySchema, rows);
  if (!party) throw subscriptionNotFound(subscriptionId);
  return party;
}

/** Plan versions by id, with their currency and prices (published versions never change). */
async function ratedVersions(db: Transactable, organizationId: string, versionIds: readonly string[]): Promise<Map<string, RatedVersion>> {
  requireOrganizationId(organizationId);
  const ids = [...new Set(versionIds)].filter(isUuid);
  if (ids.length === 0) return new Map();
  const { rows } = await withOrg(db, organizationId, (tx) =>
    tx.query('SELECT v.id, v.currency, v.prices FROM plan_versions v WHERE v.organization_id = $1 AND v.id = ANY($2::uuid[])', [organizationId, ids]),
  );
  return new Map(parseRows('billingCycle.versions', versionSchema, rows).map((v) => [v.id, v]));
}

/**
 * The customer's active subscription with its phases, the customer named by id or external id
 * (exactly one): customer_not_found for a customer of another org, failed_precondition
 * `no_active_subscription` when it has none.
 */
async function activeSubscription(db: Transactable, ref: { organizationId: string; customerId?: string; externalId?: string }): Promise<ActiveSubscription> {
  return withOrg(db, ref.organizationId, (tx) => activeSubscriptionIn(tx, ref));
}

async function activeSubscriptionIn(db: Queryable, ref: { organizationId: string; customerId?: string; externalId?: string }): Promise<ActiveSubscription> {
  // The same lookup and refusals as every customer read (customers.repository.ts).
  const customer = await findCustomer(db, ref);
  const { rows } = await db.query(`SELECT ${SUBSCRIPTION_COLUMNS} FROM ${SUBSCRIPTIONS_JOINED} WHERE s.organization_id = $1 AND s.customer_id = $2 AND s.status = 'active'`, [
    ref.organizationId,
    customer.id,
  ]);
  const subscription = parseFirstRow('billingCycle.activeSubscription', subscriptionRowSchema, rows);
  if (!subscription) {
    const [field, value] = ref.customerId ? ['customer_id', ref.customerId] : ['external_id', ref.externalId ?? ''];
    throw new PolarisError('failed_precondition', 'no_active_subscription', `customer ${JSON.stringify(value)} has no active subscription`, field);
  }
  const { rows: phases } = await db.query(
    `SELECT ph.plan_version_id AS "planVersionId", ph.starts_at AS "startsAt" FROM subscription_phases ph
      WHERE ph.organization_id = $1 AND ph.subscription_id = $2 ORDER BY ph.starts_at`,
    [ref.organizationId, subscription.id],
  );
  return { subscription, phases: parseRows('billingCycle.phases', phaseSchema.omit({ currency: true }), phases) };
}

/** The billing cycle of subscriptions, as the rating-worker drives it. */
export const billingCycle = { dueSubscriptions, openPeriod, partyOf, ratedVersions, activeSubscription };
