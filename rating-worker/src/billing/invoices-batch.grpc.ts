import { invoices, withOrg, type Pool } from '@polaris/postgres';
import type { UnaryWrapper } from '@polaris/shared/grpc';
import type { BatchGetInvoicesRequest, BatchGetInvoicesResponse } from '@polaris/proto';
import { invoiceToProto } from './invoice-proto';
import { lookUpEach } from './batch-lookup';

/**
 * Invoices.BatchGetInvoices: whole invoices (lines and history, as GetInvoice answers them) for a
 * page of invoices that selects them, in one call and one transaction of the organization.
 */
export function batchGetInvoices(pool: Pool, unary: UnaryWrapper) {
  return unary<BatchGetInvoicesRequest, BatchGetInvoicesResponse>('polaris.v1.Invoices/BatchGetInvoices', async (req) => {
    const found = await withOrg(pool, req.organizationId, (tx) =>
      lookUpEach(req.invoiceIds, 'invoice_ids', (invoiceId) => invoices.get(tx, { organizationId: req.organizationId, invoiceId })),
    );
    return { invoices: found.map((invoice) => invoiceToProto(invoice)) };
  });
}
