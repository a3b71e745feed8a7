import type { Invoice as StoredInvoice, InvoiceEvent as StoredEvent, InvoiceLine as StoredLine, InvoiceSummary } from '@polaris/postgres';
import type { Invoice, InvoiceEvent, InvoiceLine } from '@polaris/proto';
import type { Estimate } from '../rating/invoice-rater';

// The one place invoices cross between the repositories and proto: optional text becomes "",
// timestamps stay Dates, detail JSON becomes text. Amounts stay exact decimal text throughout.

export function lineToProto(line: StoredLine): InvoiceLine {
  return {
    lineKey: line.lineKey,
    kind: line.kind,
    description: line.description,
    priceKey: line.priceKey,
    meterSlug: line.meterSlug ?? '',
    meterVersionId: line.meterVersionId ?? '',
    usagePeriodStart: line.usagePeriodStart,
    usagePeriodEnd: line.usagePeriodEnd,
    quantity: line.quantity ?? '',
    billableQuantity: line.billableQuantity ?? '',
    unitPrice: line.unitPrice ?? '',
    tiers: line.tiers.map((t) => ({ tier: t.tier, from: t.from, upTo: t.upTo ?? '', quantity: t.quantity, unitPrice: t.unitPrice, flatFee: t.flatFee, amount: t.amount })),
    amount: line.amount,
    periodQuantity: line.periodQuantity ?? '',
  };
}

export function eventToProto(event: StoredEvent): InvoiceEvent {
  return {
    action: event.action,
    fromStatus: event.fromStatus ?? '',
    toStatus: event.toStatus,
    actor: event.actor,
    detail: JSON.stringify(event.detail),
    at: event.at,
  };
}

/** An invoice as the API shows it; a listing's summaries come without lines and history. */
export function invoiceToProto(invoice: InvoiceSummary & Partial<Pick<StoredInvoice, 'lines' | 'history'>>): Invoice {
  return {
    id: invoice.id,
    organizationId: invoice.organizationId,
    number: invoice.number ?? '',
    customerId: invoice.customerId,
    customerExternalId: invoice.customerExternalId,
    subscriptionId: invoice.subscriptionId,
    planVersionId: invoice.planVersionId,
    periodStart: invoice.periodStart,
    periodEnd: invoice.periodEnd,
    currency: invoice.currency,
    status: invoice.status,
    lines: (invoice.lines ?? []).map(lineToProto),
    subtotal: invoice.subtotal ?? '',
    total: invoice.total ?? '',
    usageAsOf: invoice.usageAsOf,
    linesHash: invoice.linesHash ?? '',
    ratingError: invoice.ratingError ?? '',
    finalizeAfter: invoice.finalizeAfter,
    finalizedAt: invoice.finalizedAt,
    paidAt: invoice.paidAt,
    voidedAt: invoice.voidedAt,
    estimate: false,
    history: (invoice.history ?? []).map(eventToProto),
    createdAt: invoice.createdAt,
    computedAt: invoice.computedAt,
    firedThresholds: [],
  };
}

/** The estimate: status `estimate`, no id, no number, never stored. */
export function estimateToProto(estimate: Estimate): Invoice {
  const { subscription, computation } = estimate;
  return {
    id: '',
    organizationId: subscription.organizationId,
    number: '',
    customerId: subscription.customerId,
    customerExternalId: subscription.customerExternalId,
    subscriptionId: subscription.id,
    planVersionId: estimate.planVersionId,
    periodStart: estimate.period.start,
    periodEnd: estimate.period.end,
    currency: estimate.currency,
    status: 'estimate',
    lines: computation.lines.map(lineToProto),
    subtotal: computation.subtotal,
    total: computation.total,
    usageAsOf: computation.usageAsOf,
    linesHash: computation.linesHash,
    ratingError: '',
    estimate: true,
    history: [],
    // Filled by GetUpcomingInvoice (rating-worker/src/thresholds/upcoming-firings.ts).
    firedThresholds: [],
  };
}
