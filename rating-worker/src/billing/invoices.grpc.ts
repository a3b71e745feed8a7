import { invoices, withOrg, type Pool, type Queryable } from '@polaris/postgres';
import { type GrpcServiceBinding, type RpcContext, type UnaryWrapper } from '@polaris/shared/grpc';
import {
  InvoicesService, type CustomerRef, type Invoice, type InvoiceActionRequest, type InvoiceRef, type ListInvoicesRequest, type ListInvoicesResponse,
} from '@polaris/proto';
import type { InvoiceRater } from '../rating/invoice-rater';
import { estimateToProto, invoiceToProto } from './invoice-proto';
import { firedThresholdsOf } from '../thresholds/upcoming-firings';
import { batchGetInvoices } from './invoices-batch.grpc';

/**
 * polaris.v1.Invoices over PostgreSQL and the rating code. Every call is bound to the request's
 * organization_id (the gateway's from a validated API key; the operator CLI's from its --org);
 * the repositories run every query under withOrg of it (row-level security) and filter by it too.
 * Recompute, finalize and the estimate read usage through the same code as the rating jobs, so
 * they can never disagree with them.
 */
export function invoicesService(pool: Pool, rater: InvoiceRater, unary: UnaryWrapper): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.Invoices/${name}`;
  const rule = { callers: ['gateway', 'operator'], organization: 'request' } as const;
  /** Who acted, for the history: what the caller says (api-key:<id>, …), else the calling service. */
  const actorOf = (req: InvoiceActionRequest, ctx: RpcContext) => req.actor || ctx.caller || 'unknown';
  const full = async (organizationId: string, invoiceId: string, db: Queryable = pool) => invoiceToProto(await invoices.get(db, { organizationId, invoiceId }));
  return {
    name: 'polaris.v1.Invoices',
    definition: InvoicesService,
    access: {
      listInvoices: rule,
      getInvoice: rule,
      recomputeInvoice: rule,
      finalizeInvoice: rule,
      markInvoicePaid: rule,
      voidInvoice: rule,
      getUpcomingInvoice: rule,
      batchGetInvoices: rule,
    },
    implementation: {
      listInvoices: unary<ListInvoicesRequest, ListInvoicesResponse>(method('ListInvoices'), async (req) => {
        const page = await invoices.list(pool, {
          organizationId: req.organizationId,
          customerId: req.customerId,
          subscriptionId: req.subscriptionId,
          status: req.status,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        return { invoices: page.invoices.map((i) => invoiceToProto(i)), nextPageToken: page.nextPageToken ?? '' };
      }),
      getInvoice: unary<InvoiceRef, Invoice>(method('GetInvoice'), (req) => full(req.organizationId, req.invoiceId)),
      recomputeInvoice: unary<InvoiceActionRequest, Invoice>(method('RecomputeInvoice'), async (req, ctx) => {
        await rater.recompute({ organizationId: req.organizationId, invoiceId: req.invoiceId, actor: actorOf(req, ctx) }, 'request');
        return full(req.organizationId, req.invoiceId);
      }),
      finalizeInvoice: unary<InvoiceActionRequest, Invoice>(method('FinalizeInvoice'), async (req, ctx) => {
        await rater.finalize({ organizationId: req.organizationId, invoiceId: req.invoiceId, actor: actorOf(req, ctx) }, 'request');
        return full(req.organizationId, req.invoiceId);
      }),
      markInvoicePaid: unary<InvoiceActionRequest, Invoice>(method('MarkInvoicePaid'), async (req, ctx) => {
        // The change and the answer in one transaction of the organization.
        return withOrg(pool, req.organizationId, async (tx) => {
          await invoices.markPaid(tx, { organizationId: req.organizationId, invoiceId: req.invoiceId, actor: actorOf(req, ctx) });
          return full(req.organizationId, req.invoiceId, tx);
        });
      }),
      voidInvoice: unary<InvoiceActionRequest, Invoice>(method('VoidInvoice'), async (req, ctx) => {
        // The change and the answer in one transaction of the organization.
        return withOrg(pool, req.organizationId, async (tx) => {
          await invoices.void(tx, { organizationId: req.organizationId, invoiceId: req.invoiceId, actor: actorOf(req, ctx) });
          return full(req.organizationId, req.invoiceId, tx);
        });
      }),
      getUpcomingInvoice: unary<CustomerRef, Invoice>(method('GetUpcomingInvoice'), async (req) => {
        const estimate = await rater.estimate({ organizationId: req.organizationId, customerId: req.customerId, externalId: req.externalId });
        // The usage thresholds fired in this period (rating-worker/src/thresholds/).
        const { organizationId, customerId } = estimate.subscription;
        return { ...estimateToProto(estimate), firedThresholds: await firedThresholdsOf(pool, { organizationId, customerId, periodStart: estimate.period.start }) };
      }),
      batchGetInvoices: batchGetInvoices(pool, unary),
    },
  };
}
