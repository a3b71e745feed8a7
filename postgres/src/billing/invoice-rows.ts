import { z } from 'zod';
import type { Invoice, InvoiceEvent, InvoiceLine } from './billing-records';

// The rows of the invoice tables checked with zod, and the column lists that produce them: every
// query of a kind selects the same columns, so one schema fits. numeric columns arrive as text
// (node-postgres never makes them JS numbers) and stay text, exactly as stored.

export const INVOICE_STATUSES = ['draft', 'finalized', 'paid', 'void'] as const;
export const INVOICE_ACTIONS = ['created', 'computed', 'recomputed', 'rating_failed', 'finalized', 'paid', 'voided'] as const;
export const LINE_KINDS = ['flat', 'usage', 'adjustment'] as const;

/** An invoice without its lines and history: what a listing shows. */
export type InvoiceSummary = Omit<Invoice, 'lines' | 'history'>;

const decimalText = z.string().regex(/^-?\d+(\.\d+)?$/);
const optionalDecimal = decimalText.nullable().transform((v) => v ?? undefined);
const optionalText = z
  .string()
  .nullable()
  .transform((v) => v ?? undefined);
const optionalDate = z
  .date()
  .nullable()
  .transform((v) => v ?? undefined);

export const invoiceRowSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  number: optionalText,
  customerId: z.guid(),
  customerExternalId: z.string(),
  subscriptionId: z.guid(),
  planVersionId: z.guid(),
  periodStart: z.date(),
  periodEnd: z.date(),
  currency: z.string(),
  status: z.enum(INVOICE_STATUSES),
  subtotal: optionalDecimal,
  total: optionalDecimal,
  linesHash: optionalText,
  usageAsOf: optionalDate,
  computedAt: optionalDate,
  ratingError: optionalText,
  finalizeAfter: z.date(),
  finalizedAt: optionalDate,
  paidAt: optionalDate,
  voidedAt: optionalDate,
  createdAt: z.date(),
}) satisfies z.ZodType<InvoiceSummary>;

/** Needs `FROM invoices i JOIN customers c` (INVOICES_JOINED). */
export const INVOICE_COLUMNS = `i.id, i.organization_id AS "organizationId", i.number, i.customer_id AS "customerId",
  c.external_id AS "customerExternalId", i.subscription_id AS "subscriptionId", i.plan_version_id AS "planVersionId",
  i.period_start AS "periodStart", i.period_end AS "periodEnd", i.currency, i.status, i.subtotal::text AS subtotal,
  i.total::text AS total, i.lines_hash AS "linesHash", i.usage_as_of AS "usageAsOf", i.computed_at AS "computedAt",
  i.rating_error AS "ratingError", i.finalize_after AS "finalizeAfter", i.finalized_at AS "finalizedAt",
  i.paid_at AS "paidAt", i.voided_at AS "voidedAt", i.created_at AS "createdAt"`;
/** The join repeats organization_id: an invoice and its customer always share one tenant. */
export const INVOICES_JOINED = 'invoices i JOIN customers c ON c.id = i.customer_id AND c.organization_id = i.organization_id';

const tierPieceSchema = z.object({
  tier: z.number().int().positive(),
  from: decimalText,
  upTo: decimalText.optional(),
  quantity: decimalText,
  unitPrice: decimalText,
  flatFee: decimalText,
  amount: decimalText,
});

export const lineRowSchema = z.object({
  lineKey: z.string(),
  position: z.number().int().min(0),
  kind: z.enum(LINE_KINDS),
  description: z.string(),
  priceKey: z.string(),
  meterSlug: optionalText,
  meterVersionId: optionalText,
  usagePeriodStart: z.date(),
  usagePeriodEnd: z.date(),
  quantity: optionalDecimal,
  billableQuantity: optionalDecimal,
  unitPrice: optionalDecimal,
  tiers: z.array(tierPieceSchema),
  amount: decimalText,
  periodQuantity: optionalDecimal,
}) satisfies z.ZodType<InvoiceLine>;

/** Needs `FROM invoice_lines l`. */
export const LINE_COLUMNS = `l.line_key AS "lineKey", l.position, l.kind, l.description, l.price_key AS "priceKey",
  l.meter_slug AS "meterSlug", l.meter_version_id AS "meterVersionId", l.usage_period_start AS "usagePeriodStart",
  l.usage_period_end AS "usagePeriodEnd", l.quantity::text AS quantity, l.billable_quantity::text AS "billableQuantity",
  l.unit_price::text AS "unitPrice", l.tiers, l.amount::text AS amount, l.period_quantity::text AS "periodQuantity"`;

export const eventRowSchema = z.object({
  action: z.enum(INVOICE_ACTIONS),
  fromStatus: z
    .enum(INVOICE_STATUSES)
    .nullable()
    .transform((v) => v ?? undefined),
  toStatus: z.enum(INVOICE_STATUSES),
  actor: z.string(),
  detail: z.record(z.string(), z.unknown()),
  at: z.date(),
}) satisfies z.ZodType<InvoiceEvent>;

/** Needs `FROM invoice_events e`. */
export const EVENT_COLUMNS = 'e.action, e.from_status AS "fromStatus", e.to_status AS "toStatus", e.actor, e.detail, e.at';

/**
 * The lines as one jsonb array for `jsonb_to_recordset`: one statement inserts them all, and each
 * value is named by its column rather than by its place in a long parameter list. Decimals stay
 * text on the way (numeric parses them exactly).
 */
export function linesAsJson(invoiceId: string, organizationId: string, lines: readonly InvoiceLine[]): string {
  return JSON.stringify(
    lines.map((l) => ({
      invoice_id: invoiceId,
      organization_id: organizationId,
      line_key: l.lineKey,
      position: l.position,
      kind: l.kind,
      description: l.description,
      price_key: l.priceKey,
      meter_slug: l.meterSlug ?? null,
      meter_version_id: l.meterVersionId ?? null,
      usage_period_start: l.usagePeriodStart.toISOString(),
      usage_period_end: l.usagePeriodEnd.toISOString(),
      quantity: l.quantity ?? null,
      billable_quantity: l.billableQuantity ?? null,
      unit_price: l.unitPrice ?? null,
      tiers: l.tiers,
      amount: l.amount,
      period_quantity: l.periodQuantity ?? null,
    })),
  );
}

export const LINE_RECORDSET = `jsonb_to_recordset($1::jsonb) AS r(
  invoice_id uuid, organization_id uuid, line_key text, position integer, kind text, description text, price_key text,
  meter_slug text, meter_version_id text, usage_period_start timestamptz, usage_period_end timestamptz, quantity numeric,
  billable_quantity numeric, unit_price numeric, tiers jsonb, amount numeric, period_quantity numeric)`;
