import type { Invoice as ProtoInvoice, InvoiceActionRequest } from '@polaris/proto';
import type { GatewayContext } from './context';
import { argumentsNamed, billingReader, billingWriter, callBilling, exactlyOne } from './billing-access';
import { invoiceLineKindOf, invoiceStatusOf, toProtoInvoiceStatus } from './enums';
import { guarded } from './errors';
import { meterOfRow } from './meter-lookup';
import type { InvoiceStatus, Resolvers } from './generated/resolvers-types';
import type { InvoiceParent } from './invoice.parent';
import { connection, pageSize } from './pages';

const listArgument = argumentsNamed({ page_token: 'after' });
const byIdArgument = argumentsNamed({ invoice_id: 'id' });
const upcomingArgument = argumentsNamed({});

const detailed = (invoice: ProtoInvoice): InvoiceParent => ({ ...invoice, detailed: true });

interface ListArgs {
  first?: number | null;
  after?: string | null;
  customerId?: string | null;
  status?: InvoiceStatus | null;
}

/** One page of ListInvoices: invoices without lines and history. */
async function listInvoices(ctx: GatewayContext, args: ListArgs) {
  const organizationId = await billingReader(ctx);
  const { invoices } = ctx.backends;
  const res = await callBilling(
    ctx,
    invoices.listInvoices.bind(invoices),
    {
      organizationId,
      customerId: args.customerId ?? '',
      subscriptionId: '',
      status: args.status ? toProtoInvoiceStatus(args.status) : '',
      pageSize: pageSize(args.first),
      pageToken: args.after ?? '',
    },
    organizationId,
    listArgument,
  );
  return { nodes: res.invoices.map((i): InvoiceParent => ({ ...i, detailed: false })), nextPageToken: res.nextPageToken };
}

/** An invoice action, recorded in the invoice's history as the API key that asked. */
function invoiceAction(action: 'recomputeInvoice' | 'finalizeInvoice' | 'voidInvoice' | 'markInvoicePaid') {
  return guarded(async (_parent: unknown, { id }: { id: string }, ctx: GatewayContext) => {
    const { organizationId, actor } = await billingWriter(ctx);
    const { invoices } = ctx.backends;
    const request: InvoiceActionRequest = { organizationId, invoiceId: id, actor };
    return detailed(await callBilling(ctx, invoices[action].bind(invoices), request, organizationId, byIdArgument));
  });
}

/** The lines and history of an invoice: its own, or fetched once per request (DataLoader) for a listed one. */
async function details(invoice: InvoiceParent, ctx: GatewayContext): Promise<ProtoInvoice> {
  return invoice.detailed ? invoice : ctx.loaders.invoice.load(invoice.id);
}

/** `{}` detail JSON from the history, as an object; anything else (never expected) as null. */
function detailObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Invoices and the estimate, through the rating-worker's Invoices service. */
export const invoicesResolvers = {
  Query: {
    invoices: guarded(async (_parent, args, ctx) => (await listInvoices(ctx, args)).nodes),
    invoicesConnection: guarded(async (_parent, args, ctx) => {
      const page = await listInvoices(ctx, args);
      return connection(page.nodes, page.nextPageToken);
    }),
    invoice: guarded(async (_parent, { id }, ctx) => {
      const organizationId = await billingReader(ctx);
      const { invoices } = ctx.backends;
      return detailed(await callBilling(ctx, invoices.getInvoice.bind(invoices), { organizationId, invoiceId: id }, organizationId, byIdArgument));
    }),
    upcomingInvoice: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      exactlyOne({ customerId: args.customerId, externalId: args.externalId });
      const { invoices } = ctx.backends;
      const ref = { organizationId, customerId: args.customerId ?? '', externalId: args.externalId ?? '' };
      return callBilling(ctx, invoices.getUpcomingInvoice.bind(invoices), ref, organizationId, upcomingArgument);
    }),
  },
  Mutation: {
    recomputeInvoice: invoiceAction('recomputeInvoice'),
    finalizeInvoice: invoiceAction('finalizeInvoice'),
    voidInvoice: invoiceAction('voidInvoice'),
    markInvoicePaid: invoiceAction('markInvoicePaid'),
  },
  Invoice: {
    customer: guarded(async (i, _args, ctx) => ctx.loaders.customer.load(i.customerId)),
    number: (i) => i.number || null,
    periodStart: (i) => i.periodStart as Date,
    periodEnd: (i) => i.periodEnd as Date,
    status: (i) => invoiceStatusOf(i.status),
    subtotalAmount: (i) => i.subtotal || null,
    totalAmount: (i) => i.total || null,
    lines: guarded(async (i, _args, ctx) => (await details(i, ctx)).lines),
    history: guarded(async (i, _args, ctx) => (await details(i, ctx)).history),
    usageAsOf: (i) => i.usageAsOf ?? null,
    ratingError: (i) => i.ratingError || null,
    finalizeAfter: (i) => i.finalizeAfter ?? null,
    finalizedAt: (i) => i.finalizedAt ?? null,
    paidAt: (i) => i.paidAt ?? null,
    voidedAt: (i) => i.voidedAt ?? null,
    createdAt: (i) => i.createdAt as Date,
    computedAt: (i) => i.computedAt ?? null,
  },
  UpcomingInvoice: {
    customer: guarded(async (i, _args, ctx) => ctx.loaders.customer.load(i.customerId)),
    periodStart: (i) => i.periodStart as Date,
    periodEnd: (i) => i.periodEnd as Date,
    subtotalAmount: (i) => i.subtotal,
    totalAmount: (i) => i.total,
    usageAsOf: (i) => i.usageAsOf ?? null,
  },
  InvoiceLine: {
    kind: (l) => invoiceLineKindOf(l.kind),
    meterSlug: (l) => l.meterSlug || null,
    meter: guarded(async (l, _args, ctx) => meterOfRow(ctx, l.meterSlug)),
    usagePeriodStart: (l) => l.usagePeriodStart ?? null,
    usagePeriodEnd: (l) => l.usagePeriodEnd ?? null,
    quantity: (l) => l.quantity || null,
    billableQuantity: (l) => l.billableQuantity || null,
    periodQuantity: (l) => l.periodQuantity || null,
    unitPrice: (l) => l.unitPrice || null,
  },
  InvoiceLineTier: {
    upTo: (t) => t.upTo || null,
  },
  InvoiceEvent: {
    fromStatus: (e) => (e.fromStatus ? invoiceStatusOf(e.fromStatus) : null),
    toStatus: (e) => invoiceStatusOf(e.toStatus),
    detail: (e) => detailObject(e.detail),
    at: (e) => e.at as Date,
  },
} satisfies Resolvers;
