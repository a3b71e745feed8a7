import type { Invoice as StoredInvoice, InvoiceSummary } from '@polaris/postgres';
import type { Invoice as ProtoInvoice } from '@polaris/proto';

// One shape for an invoice at the terminal, whether it came from the repository (list, get, pay,
// void) or from the rating-worker's gRPC (recompute, finalize, upcoming), so both print and
// serialize the same. Fields are picked by name, never spread from a row, so a column added later
// cannot reach a script reading --json unnoticed. Amounts stay exact decimal text.

export interface InvoiceLineView {
  lineKey: string;
  kind: string;
  description: string;
  priceKey: string;
  meterSlug: string | null;
  usagePeriodStart: string;
  usagePeriodEnd: string;
  quantity: string | null;
  billableQuantity: string | null;
  unitPrice: string | null;
  amount: string;
  periodQuantity: string | null;
  tiers: Array<{ tier: number; from: string; upTo: string | null; quantity: string; unitPrice: string; flatFee: string; amount: string }>;
}

export interface InvoiceView {
  /** null for an estimate. */
  id: string | null;
  orgId: string;
  number: string | null;
  /** draft | finalized | paid | void, or estimate. */
  status: string;
  estimate: boolean;
  customerId: string;
  customerExternalId: string;
  subscriptionId: string;
  planVersionId: string;
  currency: string;
  periodStart: string;
  periodEnd: string;
  subtotal: string | null;
  total: string | null;
  linesHash: string | null;
  usageAsOf: string | null;
  ratingError: string | null;
  finalizeAfter: string | null;
  finalizedAt: string | null;
  paidAt: string | null;
  voidedAt: string | null;
  createdAt: string | null;
  computedAt: string | null;
  /** Absent in listings. */
  lines?: InvoiceLineView[];
  history?: Array<{ action: string; fromStatus: string | null; toStatus: string; actor: string; at: string | null; detail: unknown }>;
}

const iso = (at: Date | undefined): string | null => at?.toISOString() ?? null;
const text = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

export function storedInvoiceView(invoice: InvoiceSummary & Partial<Pick<StoredInvoice, 'lines' | 'history'>>): InvoiceView {
  return {
    id: invoice.id,
    orgId: invoice.organizationId,
    number: invoice.number ?? null,
    status: invoice.status,
    estimate: false,
    customerId: invoice.customerId,
    customerExternalId: invoice.customerExternalId,
    subscriptionId: invoice.subscriptionId,
    planVersionId: invoice.planVersionId,
    currency: invoice.currency,
    periodStart: invoice.periodStart.toISOString(),
    periodEnd: invoice.periodEnd.toISOString(),
    subtotal: invoice.subtotal ?? null,
    total: invoice.total ?? null,
    linesHash: invoice.linesHash ?? null,
    usageAsOf: iso(invoice.usageAsOf),
    ratingError: invoice.ratingError ?? null,
    finalizeAfter: iso(invoice.finalizeAfter),
    finalizedAt: iso(invoice.finalizedAt),
    paidAt: iso(invoice.paidAt),
    voidedAt: iso(invoice.voidedAt),
    createdAt: iso(invoice.createdAt),
    computedAt: iso(invoice.computedAt),
    ...(invoice.lines
      ? {
          lines: invoice.lines.map((l) => ({
            lineKey: l.lineKey,
            kind: l.kind,
            description: l.description,
            priceKey: l.priceKey,
            meterSlug: l.meterSlug ?? null,
            usagePeriodStart: l.usagePeriodStart.toISOString(),
            usagePeriodEnd: l.usagePeriodEnd.toISOString(),
            quantity: l.quantity ?? null,
            billableQuantity: l.billableQuantity ?? null,
            unitPrice: l.unitPrice ?? null,
            amount: l.amount,
            periodQuantity: l.periodQuantity ?? null,
            tiers: l.tiers.map((t) => ({ tier: t.tier, from: t.from, upTo: t.upTo ?? null, quantity: t.quantity, unitPrice: t.unitPrice, flatFee: t.flatFee, amount: t.amount })),
          })),
        }
      : {}),
    ...(invoice.history
      ? { history: invoice.history.map((e) => ({ action: e.action, fromStatus: e.fromStatus ?? null, toStatus: e.toStatus, actor: e.actor, at: e.at.toISOString(), detail: e.detail })) }
      : {}),
  };
}

function parsedDetail(detail: string): unknown {
  try {
    return JSON.parse(detail) as unknown;
  } catch {
    return detail;
  }
}

export function protoInvoiceView(invoice: ProtoInvoice): InvoiceView {
  return {
    id: text(invoice.id),
    orgId: invoice.organizationId,
    number: text(invoice.number),
    status: invoice.status,
    estimate: invoice.estimate,
    customerId: invoice.customerId,
    customerExternalId: invoice.customerExternalId,
    subscriptionId: invoice.subscriptionId,
    planVersionId: invoice.planVersionId,
    currency: invoice.currency,
    periodStart: iso(invoice.periodStart) ?? '',
    periodEnd: iso(invoice.periodEnd) ?? '',
    subtotal: text(invoice.subtotal),
    total: text(invoice.total),
    linesHash: text(invoice.linesHash),
    usageAsOf: iso(invoice.usageAsOf),
    ratingError: text(invoice.ratingError),
    finalizeAfter: iso(invoice.finalizeAfter),
    finalizedAt: iso(invoice.finalizedAt),
    paidAt: iso(invoice.paidAt),
    voidedAt: iso(invoice.voidedAt),
    createdAt: iso(invoice.createdAt),
    computedAt: iso(invoice.computedAt),
    lines: invoice.lines.map((l) => ({
      lineKey: l.lineKey,
      kind: l.kind,
      description: l.description,
      priceKey: l.priceKey,
      meterSlug: text(l.meterSlug),
      usagePeriodStart: iso(l.usagePeriodStart) ?? '',
      usagePeriodEnd: iso(l.usagePeriodEnd) ?? '',
      quantity: text(l.quantity),
      billableQuantity: text(l.billableQuantity),
      unitPrice: text(l.unitPrice),
      amount: l.amount,
      periodQuantity: text(l.periodQuantity),
      tiers: l.tiers.map((t) => ({ tier: t.tier, from: t.from, upTo: text(t.upTo), quantity: t.quantity, unitPrice: t.unitPrice, flatFee: t.flatFee, amount: t.amount })),
    })),
    history: invoice.history.map((e) => ({ action: e.action, fromStatus: text(e.fromStatus), toStatus: e.toStatus, actor: e.actor, at: iso(e.at), detail: parsedDetail(e.detail) })),
  };
}
