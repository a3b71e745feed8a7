import { requireOrganizationId } from '@polaris/shared/contracts';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { decodePageToken, encodePageToken, pageSize } from '../meters/page-token';
import type { Invoice, InvoiceStatus } from './billing-records';
import { isUuid } from './catalog-input';
import { invoiceNotFound } from './invoice-errors';
import { invoiceHistory } from './invoice-history';
import { BASIS_SQL, hashBasis, invoiceRating, selectInvoice } from './invoice-rating';
import {
  EVENT_COLUMNS, eventRowSchema, INVOICE_COLUMNS, INVOICE_STATUSES, INVOICES_JOINED, invoiceRowSchema, LINE_COLUMNS, lineRowSchema, type InvoiceSummary,
} from './invoice-rows';

// The `invoices`, `invoice_lines` and `invoice_events` tables, for one organization at a time:
// every function runs under withOrg (row-level security) and every query is also bound to the
// caller's organization_id, so another tenant's invoice is not found, whatever its id. The rating side (claim, computations, finalization) is invoice-rating.ts.

export interface ListInvoicesInput {
  organizationId: string;
  customerId?: string;
  subscriptionId?: string;
  status?: string;
  pageSize?: number;
  pageToken?: string;
}

/** What earlier invoices billed for one usage period of a subscription, per price. */
export interface BilledPeriod {
  start: Date;
  end: Date;
  /** The plan version of the period's own invoice: the prices its usage is rated by. */
  planVersionId: string;
  prices: Array<{
    priceKey: string;
    /** Σ amounts of the finalized and paid invoices' lines for this period and price. */
    amount: string;
    /** The period's whole quantity as the latest of those lines billed it; undefined for flat prices. */
    periodQuantity?: string;
  }>;
}

export interface BilledHistory {
  /** adjustmentBasis when these sums were read: a finalization checks it has not moved. */
  basis: string;
  /** Oldest first. */
  periods: BilledPeriod[];
}

/** A row of billedForPeriod: the basis, and one sum per period and price (all null when nothing was billed). */
const billedRowSchema = z.object({
  basis: z.string(),
  start: z.date().nullable(),
  end: z.date().nullable(),
  planVersionId: z.guid().nullable(),
  priceKey: z.string().nullable(),
  amount: z.string().nullable(),
  periodQuantity: z
    .string()
    .nullable()
    .transform((v) => v ?? undefined),
});
const dueRowSchema = z.object({ organizationId: z.guid(), invoiceId: z.guid(), finalizeAfter: z.date() });

/** The organization's invoice, with its lines (by position) and history (oldest first). */
async function get(db: Transactable, input: { organizationId: string; invoiceId: string }): Promise<Invoice> {
  requireOrganizationId(input.organizationId);
  if (!isUuid(input.invoiceId)) throw invoiceNotFound(input.invoiceId);
  return withOrg(db, input.organizationId, (tx) => read(tx, input));
}

async function read(db: Queryable, input: { organizationId: string; invoiceId: string }): Promise<Invoice> {
  const invoice = await selectInvoice(db, input.organizationId, input.invoiceId);
  const { rows } = await db.query(`SELECT ${LINE_COLUMNS} FROM invoice_lines l WHERE l.organization_id = $1 AND l.invoice_id = $2 ORDER BY l.position`, [
    input.organizationId,
    input.invoiceId,
  ]);
  const lines = parseRows('invoices.lines', lineRowSchema, rows);
  return { ...invoice, lines, history: await invoiceHistory(db, input.organizationId, input.invoiceId) };
}

const lineWithInvoiceSchema = lineRowSchema.extend({ invoiceId: z.guid() });
const eventWithInvoiceSchema = eventRowSchema.extend({ invoiceId: z.guid() });

/**
 * The organization's invoices among `invoiceIds`, each with its lines (by position) and history
 * (oldest first), as get answers one: three queries for the whole list, in any order. An id that
 * is not a UUID, unknown, or another organization's is left out. The batch lookups
 * (BatchGetInvoices) call it with a bounded list.
 */
async function getMany(db: Transactable, input: { organizationId: string; invoiceIds: readonly string[] }): Promise<Invoice[]> {
  requireOrganizationId(input.organizationId);
  const ids = [...new Set(input.invoiceIds.filter(isUuid))];
  if (ids.length === 0) return [];
  return withOrg(db, input.organizationId, async (tx) => {
    const org = input.organizationId;
    const found = await tx.query(`SELECT ${INVOICE_COLUMNS} FROM ${INVOICES_JOINED} WHERE i.organization_id = $1 AND i.id = ANY($2::uuid[])`, [org, ids]);
    const summaries = parseRows('invoices.getMany', invoiceRowSchema, found.rows);
    if (summaries.length === 0) return [];
    const present = summaries.map((i) => i.id);
    const lineRows = await tx.query(
      `SELECT l.invoice_id AS "invoiceId", ${LINE_COLUMNS} FROM invoice_lines l WHERE l.organization_id = $1 AND l.invoice_id = ANY($2::uuid[]) ORDER BY l.invoice_id, l.position`,
      [org, present],
    );
    const eventRows = await tx.query(
      `SELECT e.invoice_id AS "invoiceId", ${EVENT_COLUMNS} FROM invoice_events e WHERE e.organization_id = $1 AND e.invoice_id = ANY($2::uuid[]) ORDER BY e.invoice_id, e.id`,
      [org, present],
    );
    const lines = groupByInvoice(parseRows('invoices.manyLines', lineWithInvoiceSchema, lineRows.rows));
    const history = groupByInvoice(parseRows('invoices.manyHistories', eventWithInvoiceSchema, eventRows.rows));
    return summaries.map((invoice) => ({ ...invoice, lines: lines.get(invoice.id) ?? [], history: history.get(invoice.id) ?? [] }));
  });
}

/** Rows that name their invoice → each invoice's rows without that column, in the order read. */
function groupByInvoice<T extends { invoiceId: string }>(rows: readonly T[]): Map<string, Array<Omit<T, 'invoiceId'>>> {
  const byInvoice = new Map<string, Array<Omit<T, 'invoiceId'>>>();
  for (const { invoiceId, ...row } of rows) {
    const list = byInvoice.get(invoiceId) ?? [];
    list.push(row);
    byInvoice.set(invoiceId, list);
  }
  return byInvoice;
}

const optionalUuid = (value: string | undefined, field: string): string | null => {
  if (value === undefined || value === '') return null;
  if (!isUuid(value)) throw new PolarisError('invalid_argument', `invalid_${field}`, `${field} must be a UUID`, field);
  return value;
};

function statusFilter(value: string | undefined): InvoiceStatus | null {
  if (value === undefined || value === '') return null;
  if (!(INVOICE_STATUSES as readonly string[]).includes(value)) {
    throw new PolarisError('invalid_argument', 'invalid_status', `status must be one of ${INVOICE_STATUSES.join(', ')}`, 'status');
  }
  return value as InvoiceStatus;
}

/**
 * One page of the organization's invoices, newest first, without lines and history (get has
 * them). Keyset pages after the last invoice shown: stable while new invoices are created.
 */
async function list(db: Transactable, input: ListInvoicesInput): Promise<{ invoices: InvoiceSummary[]; nextPageToken?: string }> {
  requireOrganizationId(input.organizationId);
  const customerId = optionalUuid(input.customerId, 'customer_id');
  const subscriptionId = optionalUuid(input.subscriptionId, 'subscription_id');
  const status = statusFilter(input.status);
  const size = pageSize(input.pageSize);
  const after = decodePageToken(input.pageToken);
  if (after !== undefined && !isUuid(after)) throw new PolarisError('invalid_argument', 'invalid_page_token', 'page_token is not a token this listing returned', 'page_token');
  const { rows } = await withOrg(db, input.organizationId, (tx) => tx.query(
    `SELECT ${INVOICE_COLUMNS} FROM ${INVOICES_JOINED}
      WHERE i.organization_id = $1
        AND ($2::uuid IS NULL OR i.customer_id = $2) AND ($3::uuid IS NULL OR i.subscription_id = $3) AND ($4::text IS NULL OR i.status = $4)
        AND ($5::uuid IS NULL OR EXISTS (
              SELECT 1 FROM invoices a WHERE a.organization_id = $1 AND a.id = $5
                 AND (i.created_at < a.created_at OR (i.created_at = a.created_at AND i.id > a.id))))
      ORDER BY i.created_at DESC, i.id
      LIMIT $6`,
    [input.organizationId, customerId, subscriptionId, status, after ?? null, size + 1],
  ));
  const found = parseRows('invoices.list', invoiceRowSchema, rows);
  const page = found.slice(0, size);
  const last = page.at(-1);
  return found.length > size && last ? { invoices: page, nextPageToken: encodePageToken(last.id) } : { invoices: page };
}

/**
 * What the subscription's finalized and paid invoices billed, per usage period and price, for the
 * periods before `before` that ended after `since` (the late-usage lookback) and whose own
 * invoice is finalized or paid: a period whose invoice is void is not adjusted, and one whose
 * invoice is still a draft is billed by that draft.
 */
async function billedForPeriod(
  db: Transactable,
  input: { organizationId: string; subscriptionId: string; before: Date; since: Date },
): Promise<BilledHistory> {
  requireOrganizationId(input.organizationId);
  if (!isUuid(input.subscriptionId)) return { basis: hashBasis(''), periods: [] };
  // One statement, so one snapshot: the basis and the sums can never disagree.
  const { rows } = await withOrg(db, input.organizationId, (tx) => tx.query(
    `WITH basis AS (${BASIS_SQL}),
     billed AS (
       SELECT o.period_start AS start, o.period_end AS "end", o.plan_version_id AS "planVersionId", l.price_key AS "priceKey",
              sum(l.amount)::text AS amount,
              (array_agg(l.period_quantity::text ORDER BY i.finalized_at DESC, i.id DESC))[1] AS "periodQuantity"
         FROM invoices o
         JOIN invoices i ON i.organization_id = o.organization_id AND i.subscription_id = o.subscription_id AND i.status IN ('finalized', 'paid')
         JOIN invoice_lines l ON l.organization_id = i.organization_id AND l.invoice_id = i.id AND l.usage_period_start = o.period_start
        WHERE o.organization_id = $1 AND o.subscription_id = $2 AND o.status IN ('finalized', 'paid')
          AND o.period_start < $3 AND o.period_end > $4
        GROUP BY o.period_start, o.period_end, o.plan_version_id, l.price_key)
     SELECT basis.basis, billed.* FROM basis LEFT JOIN billed ON true
      ORDER BY billed.start, billed."priceKey"`,
    [input.organizationId, input.subscriptionId, input.before, input.since],
  ));
  const parsed = parseRows('invoices.billedForPeriod', billedRowSchema, rows);
  const periods: BilledPeriod[] = [];
  for (const row of parsed) {
    if (row.start === null || row.end === null || row.planVersionId === null || row.priceKey === null || row.amount === null) continue;
    let period = periods.at(-1);
    if (period?.start.getTime() !== row.start.getTime()) {
      period = { start: row.start, end: row.end, planVersionId: row.planVersionId, prices: [] };
      periods.push(period);
    }
    period.prices.push({ priceKey: row.priceKey, amount: row.amount, ...(row.periodQuantity === undefined ? {} : { periodQuantity: row.periodQuantity }) });
  }
  return { basis: hashBasis(parsed[0]?.basis ?? ''), periods };
}

/**
 * Drafts whose grace has passed (finalize_after ≤ now), oldest first, after a keyset cursor: the
 * scheduler's query, across organizations (each row names its own), so through the SECURITY
 * DEFINER function of migration 006 (ids only; each finalization then runs under withOrg).
 */
async function dueForFinalization(
  db: Queryable,
  input: { limit: number; after?: { finalizeAfter: Date; invoiceId: string } },
): Promise<Array<z.infer<typeof dueRowSchema>>> {
  const { rows } = await db.query(
    `SELECT organization_id AS "organizationId", invoice_id AS "invoiceId", finalize_after AS "finalizeAfter"
       FROM polaris_drafts_due_for_finalization($1::timestamptz, $2::uuid, $3)`,
    [input.after?.finalizeAfter ?? null, input.after?.invoiceId ?? null, input.limit],
  );
  return parseRows('invoices.dueForFinalization', dueRowSchema, rows);
}

/** The invoice tables, per organization: the only code that writes them. */
export const invoices = { get, getMany, list, billedForPeriod, dueForFinalization, ...invoiceRating };
