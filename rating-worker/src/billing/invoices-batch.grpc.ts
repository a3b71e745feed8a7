import { invoices, type Pool } from '@polaris/postgres';
import type { UnaryWrapper } from '@polaris/shared/grpc';
import type { BatchGetInvoicesRequest, BatchGetInvoicesResponse } from '@polaris/proto';
import { invoiceToProto } from './invoice-proto';
import { batchIds } from './batch-lookup';

/**
 * Invoices.BatchGetInvoices: whole invoices (lines and history, as GetInvoice answers them) for a
 * page of invoices that selects them, in one call and three set-based reads (invoices.getMany,
 * inside withOrg), never a query per id.
 */
export function batchGetInvoices(pool: Pool, unary: UnaryWrapper) {
  return unary<BatchGetInvoicesRequest, BatchGetInvoicesResponse>('polaris.v1.Invoices/BatchGetInvoices', async (req) => {
    const found = await invoices.getMany(pool, { organizationId: req.organizationId, invoiceIds: batchIds(req.invoiceIds, 'invoice_ids') });
    return { invoices: found.map((invoice) => invoiceToProto(invoice)) };
  });
}
