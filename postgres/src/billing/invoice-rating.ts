import { createHash } from 'node:crypto';
import { requireOrganizationId } from '@polaris/shared/contracts';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import type { InvoiceLine } from './billing-records';
import { isUuid } from './catalog-input';
import { allowedFrom, billingChanged, claimLost, invalidTransition, invoiceNotFound } from './invoice-errors';
import { recordInvoiceEvent, requireActor } from './invoice-history';
import { INVOICE_COLUMNS, INVOICE_STATUSES, INVOICES_JOINED, invoiceRowSchema, LINE_RECORDSET, linesAsJson, type InvoiceSummary } from './invoice-rows';
import { recordInvoiceNotification } from '../notifications/invoice-notifications';

// The rating side of invoices (docs/billing.md, "Rating"): a worker claims a draft, computes it
// outside any transaction (usage comes over gRPC), then writes the result in one transaction that
// still holds the claim. Finalization writes the last computation and takes the number in the
// same transaction, so a finalized invoice is exactly what was last computed.

/** What one rating of an invoice produced. */
export interface InvoiceComputation {
  /** Sorted by position; keys unique. */
  lines: InvoiceLine[];
  subtotal: string;
  total: string;
  /** sha256 of the canonical lines and totals (linesHash of @polaris/shared/billing). */
  linesHash: string;
  /** When the usage billed was read. */
  usageAsOf: Date;
}

export type ClaimOutcome =
  | { claimed: InvoiceSummary }
  | { refused: 'not_draft'; invoice: InvoiceSummary }
  | { refused: 'claimed'; invoice: InvoiceSummary; claimedBy: string };

const MAX_CLAIMER_LENGTH = 200;
const MAX_ERROR_LENGTH = 2000;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const HASH = /^[0-9a-f]{64}$/;

const lockedSchema = z.object({
  subscriptionId: z.guid(),
  status: z.enum(INVOICE_STATUSES),
  claimedBy: z.string().nullable(),
  total: z.string().nullable(),
  computedAt: z.date().nullable(),
});
const numberSchema = z.object({ last: z.string() });
const basisSchema = z.object({ basis: z.string() });

function requireClaimer(claimer: string): string {
  if (claimer.length < 1 || claimer.length > MAX_CLAIMER_LENGTH) throw new Error(`a claimer id must be 1 to ${MAX_CLAIMER_LENGTH} characters`);
  return claimer;
}

function requireInvoiceRef(organizationId: string, invoiceId: string): void {
  requireOrganizationId(organizationId);
  if (!isUuid(invoiceId)) throw invoiceNotFound(invoiceId);
}

/** The computation is the program's own output: a malformed one is a bug, refused before any write. */
function checkComputation(c: InvoiceComputation): void {
  const keys = new Set(c.lines.map((l) => l.lineKey));
  if (keys.size !== c.lines.length) throw new Error('invoice computation: line keys must be unique');
  if (!DECIMAL.test(c.subtotal) || !DECIMAL.test(c.total)) throw new Error('invoice computation: subtotal and total must be decimal text');
  if (!HASH.test(c.linesHash)) throw new Error('invoice computation: lines_hash must be a sha256 in hex');
}

export async function selectInvoice(db: Queryable, organizationId: string, invoiceId: string): Promise<InvoiceSummary> {
  const { rows } = await db.query(`SELECT ${INVOICE_COLUMNS} FROM ${INVOICES_JOINED} WHERE i.organization_id = $1 AND i.id = $2`, [organizationId, invoiceId]);
  const found = parseFirstRow('invoices.get', invoiceRowSchema, rows);
  if (!found) throw invoiceNotFound(invoiceId);
  return found;
}

/** The invoice row, locked for the rest of the transaction. */
async function lockInvoice(tx: Queryable, organizationId: string, invoiceId: string): Promise<z.infer<typeof lockedSchema>> {
  const { rows } = await tx.query(
    `SELECT subscription_id AS "subscriptionId", status, claimed_by AS "claimedBy", total::text AS total, computed_at AS "computedAt"
       FROM invoices WHERE organization_id = $1 AND id = $2 FOR UPDATE`,
    [organizationId, invoiceId],
  );
  const locked = parseFirstRow('invoices.lock', lockedSchema, rows);
  if (!locked) throw invoiceNotFound(invoiceId);
  return locked;
}

/**
 * What the adjustments of an invoice depend on besides usage: the subscription's invoices that
 * are no longer drafts, with their statuses. A finalization compares it before writing. The SQL
 * is shared with billedForPeriod, which reads it in the same statement as the sums.
 */
export const BASIS_SQL = `SELECT COALESCE(string_agg(b.id::text || ':' || b.status, ',' ORDER BY b.id), '') AS basis
  FROM invoices b WHERE b.organization_id = $1 AND b.subscription_id = $2 AND b.status <> 'draft'`;

export const hashBasis = (basis: string): string => createHash('sha256').update(basis).digest('hex');

export async function adjustmentBasis(db: Queryable, organizationId: string, subscriptionId: string): Promise<string> {
  const { rows } = await db.query(BASIS_SQL, [organizationId, subscriptionId]);
  return hashBasis(parseFirstRow('invoices.adjustmentBasis', basisSchema, rows)?.basis ?? '');
}

/**
 * Claims a draft for `claimer` until now() + ttlMs: one conditional UPDATE, so of two workers
 * racing for one invoice exactly one wins. A claim that expired, or that `claimer` already holds,
 * is taken; a live one of someone else's is not.
 */
async function claim(db: Transactable, input: { organizationId: string; invoiceId: string; claimer: string; ttlMs: number }): Promise<ClaimOutcome> {
  requireInvoiceRef(input.organizationId, input.invoiceId);
  const claimer = requireClaimer(input.claimer);
  return withOrg(db, input.organizationId, (tx) => claimIn(tx, input, claimer));
}

async function claimIn(db: Queryable, input: { organizationId: string; invoiceId: string; ttlMs: number }, claimer: string): Promise<ClaimOutcome> {
  const { rows } = await db.query(
    `WITH claimed AS (
       UPDATE invoices SET claimed_by = $3, claimed_until = now() + $4 * interval '1 millisecond', updated_at = now()
        WHERE organization_id = $1 AND id = $2 AND status = 'draft'
          AND (claimed_by IS NULL OR claimed_until < now() OR claimed_by = $3)
        RETURNING *)
     SELECT ${INVOICE_COLUMNS} FROM claimed i JOIN customers c ON c.id = i.customer_id AND c.organization_id = i.organization_id`,
    [input.organizationId, input.invoiceId, claimer, input.ttlMs],
  );
  const claimed = parseFirstRow('invoices.claim', invoiceRowSchema, rows);
  if (claimed) return { claimed };
  const invoice = await selectInvoice(db, input.organizationId, input.invoiceId);
  if (invoice.status !== 'draft') return { refused: 'not_draft', invoice };
  const holder = await db.query('SELECT claimed_by AS "claimedBy" FROM invoices WHERE organization_id = $1 AND id = $2', [input.organizationId, input.invoiceId]);
  const claimedBy = parseFirstRow('invoices.claimHolder', z.object({ claimedBy: z.string().nullable() }), holder.rows)?.claimedBy ?? 'another worker';
  return { refused: 'claimed', invoice, claimedBy };
}

/** Inside a transaction holding the invoice: lines replaced, totals and hash set, the claim released, one history row. */
async function writeResult(
  tx: Queryable,
  ids: { organizationId: string; invoiceId: string },
  locked: z.infer<typeof lockedSchema>,
  computation: InvoiceComputation,
  actor: string,
): Promise<void> {
  const { organizationId, invoiceId } = ids;
  // Lines are only ever written here: a draft never computed has none to replace.
  if (locked.computedAt !== null) await tx.query('DELETE FROM invoice_lines WHERE organization_id = $1 AND invoice_id = $2', [organizationId, invoiceId]);
  if (computation.lines.length > 0) {
    await tx.query(
      `INSERT INTO invoice_lines (invoice_id, organization_id, line_key, position, kind, description, price_key, meter_slug, meter_version_id,
              usage_period_start, usage_period_end, quantity, billable_quantity, unit_price, tiers, amount, period_quantity)
       SELECT invoice_id, organization_id, line_key, position, kind, description, price_key, meter_slug, meter_version_id,
              usage_period_start, usage_period_end, quantity, billable_quantity, unit_price, COALESCE(tiers, '[]'::jsonb), amount, period_quantity
         FROM ${LINE_RECORDSET}`,
      [linesAsJson(invoiceId, organizationId, computation.lines)],
    );
  }
  // The claim is released with the result: the next computation, on any worker, may start at once.
  await tx.query(
    `UPDATE invoices SET subtotal = $3, total = $4, lines_hash = $5, usage_as_of = $6, computed_at = now(), rating_error = NULL,
            claimed_by = NULL, claimed_until = NULL, updated_at = now()
      WHERE organization_id = $1 AND id = $2`,
    [organizationId, invoiceId, computation.subtotal, computation.total, computation.linesHash, computation.usageAsOf],
  );
  await recordInvoiceEvent(tx, {
    organizationId,
    invoiceId,
    action: locked.computedAt === null ? 'computed' : 'recomputed',
    fromStatus: 'draft',
    toStatus: 'draft',
    actor,
    detail: { totalBefore: locked.total, totalAfter: computation.total, linesHash: computation.linesHash, usageAsOf: computation.usageAsOf.toISOString() },
  });
}

/** Locks a draft the claimer still holds; refuses anything else. */
async function lockClaimedDraft(tx: Queryable, organizationId: string, invoiceId: string, claimer: string, to: 'recomputed' | 'finalized') {
  const locked = await lockInvoice(tx, organizationId, invoiceId);
  if (locked.status !== 'draft') throw invalidTransition(invoiceId, locked.status, to);
  // Nobody else can have taken it over without writing claimed_by: it is ours while it names us.
  if (locked.claimedBy !== claimer) throw claimLost(invoiceId, claimer);
  return locked;
}

/**
 * Writes a computation of a claimed draft, in one transaction, and releases the claim. Refused
 * (nothing written) when the invoice is no longer a draft or the claim is no longer ours.
 */
async function writeComputation(
  db: Transactable,
  input: { organizationId: string; invoiceId: string; claimer: string; actor: string; computation: InvoiceComputation },
): Promise<InvoiceSummary> {
  requireInvoiceRef(input.organizationId, input.invoiceId);
  const actor = requireActor(input.actor);
  checkComputation(input.computation);
  return withOrg(db, input.organizationId, async (tx) => {
    const locked = await lockClaimedDraft(tx, input.organizationId, input.invoiceId, input.claimer, 'recomputed');
    await writeResult(tx, input, locked, input.computation, actor);
    return selectInvoice(tx, input.organizationId, input.invoiceId);
  });
}

/**
 * Records why a rating attempt failed (the draft keeps `rating_error` until a later one succeeds)
 * and releases the claim, so the retry, on whichever worker, can take it at once. Nothing happens
 * when the claim is no longer ours: the holder reports its own outcome.
 */
async function recordRatingFailure(
  db: Transactable,
  input: { organizationId: string; invoiceId: string; claimer: string; actor: string; error: string },
): Promise<boolean> {
  requireInvoiceRef(input.organizationId, input.invoiceId);
  const actor = requireActor(input.actor);
  const error = input.error.slice(0, MAX_ERROR_LENGTH) || 'unknown error';
  return withOrg(db, input.organizationId, async (tx) => {
    const { rowCount } = await tx.query(
      `UPDATE invoices SET rating_error = $4, claimed_by = NULL, claimed_until = NULL, updated_at = now()
        WHERE organization_id = $1 AND id = $2 AND status = 'draft' AND claimed_by = $3`,
      [input.organizationId, input.invoiceId, input.claimer, error],
    );
    if (rowCount !== 1) return false;
    const { organizationId, invoiceId } = input;
    await recordInvoiceEvent(tx, { organizationId, invoiceId, action: 'rating_failed', fromStatus: 'draft', toStatus: 'draft', actor, detail: { error } });
    return true;
  });
}

/** The org's next invoice number, taken in the caller's transaction: a rollback gives it back, so numbers have no gaps. */
async function nextNumber(tx: Queryable, organizationId: string): Promise<string> {
  const { rows } = await tx.query(
    `INSERT INTO invoice_number_sequences AS s (organization_id, last_number) VALUES ($1, 1)
     ON CONFLICT (organization_id) DO UPDATE SET last_number = s.last_number + 1
     RETURNING s.last_number::text AS last`,
    [organizationId],
  );
  const taken = parseFirstRow('invoices.nextNumber', numberSchema, rows);
  if (!taken) throw new Error('INSERT … RETURNING returned no row');
  return `INV-${taken.last.padStart(6, '0')}`;
}

/**
 * Finalizes a claimed draft with its last computation, in one transaction: the lines and totals
 * written, the org's next number taken, the status frozen (a trigger refuses any later change).
 * `basis` is adjustmentBasis as the computation saw it; the subscription is locked first, so
 * finalizations of one subscription happen one at a time and each sees the ones before it.
 */
async function finalize(
  db: Transactable,
  input: { organizationId: string; invoiceId: string; claimer: string; actor: string; computation: InvoiceComputation; basis: string },
): Promise<InvoiceSummary> {
  requireInvoiceRef(input.organizationId, input.invoiceId);
  const actor = requireActor(input.actor);
  checkComputation(input.computation);
  return withOrg(db, input.organizationId, async (tx) => {
    const { subscriptionId } = await selectInvoice(tx, input.organizationId, input.invoiceId);
    await tx.query('SELECT 1 FROM subscriptions WHERE organization_id = $1 AND id = $2 FOR UPDATE', [input.organizationId, subscriptionId]);
    const locked = await lockClaimedDraft(tx, input.organizationId, input.invoiceId, input.claimer, 'finalized');
    if ((await adjustmentBasis(tx, input.organizationId, subscriptionId)) !== input.basis) throw billingChanged(input.invoiceId);
    await writeResult(tx, input, locked, input.computation, actor);
    const number = await nextNumber(tx, input.organizationId);
    await tx.query(
      `UPDATE invoices SET status = 'finalized', number = $3, finalized_at = now(), claimed_by = NULL, claimed_until = NULL, updated_at = now()
        WHERE organization_id = $1 AND id = $2`,
      [input.organizationId, input.invoiceId, number],
    );
    const { organizationId, invoiceId } = input;
    await recordInvoiceEvent(tx, { organizationId, invoiceId, action: 'finalized', fromStatus: 'draft', toStatus: 'finalized', actor, detail: { number, total: input.computation.total } });
    await recordInvoiceNotification(tx, { organizationId, invoiceId, type: 'invoice.finalized' }); // webhooks outbox (issue 12)
    return selectInvoice(tx, input.organizationId, input.invoiceId);
  });
}

/** A status change that needs no computation: paid, void. */
async function transition(
  db: Transactable,
  input: { organizationId: string; invoiceId: string; actor: string },
  to: 'paid' | 'void',
): Promise<InvoiceSummary> {
  requireInvoiceRef(input.organizationId, input.invoiceId);
  const actor = requireActor(input.actor);
  const allowed = allowedFrom(to);
  return withOrg(db, input.organizationId, async (tx) => {
    const locked = await lockInvoice(tx, input.organizationId, input.invoiceId);
    if (!allowed.includes(locked.status)) throw invalidTransition(input.invoiceId, locked.status, to);
    const stamp = to === 'paid' ? 'paid_at' : 'voided_at';
    // A void draft is never rated again: whoever holds its claim finds it void when writing.
    await tx.query(
      `UPDATE invoices SET status = $3, ${stamp} = now(), claimed_by = NULL, claimed_until = NULL, updated_at = now()
        WHERE organization_id = $1 AND id = $2`,
      [input.organizationId, input.invoiceId, to],
    );
    const { organizationId, invoiceId } = input;
    await recordInvoiceEvent(tx, { organizationId, invoiceId, action: to === 'paid' ? 'paid' : 'voided', fromStatus: locked.status, toStatus: to, actor });
    await recordInvoiceNotification(tx, { organizationId, invoiceId, type: to === 'paid' ? 'invoice.paid' : 'invoice.voided' }); // webhooks outbox (issue 12)
    return selectInvoice(tx, input.organizationId, input.invoiceId);
  });
}

const markPaid = (db: Transactable, input: { organizationId: string; invoiceId: string; actor: string }) => transition(db, input, 'paid');
const voidInvoice = (db: Transactable, input: { organizationId: string; invoiceId: string; actor: string }) => transition(db, input, 'void');

export const invoiceRating = { claim, writeComputation, recordRatingFailure, finalize, markPaid, void: voidInvoice };
