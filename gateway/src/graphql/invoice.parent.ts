import type { Invoice } from '@polaris/proto';

/**
 * What an `Invoice` field resolves to: the Invoices service's answer, and whether it holds the
 * lines and history. GetInvoice and the invoice actions answer them; ListInvoices does not, so a
 * listed invoice fetches them (loaders.ts) only if `lines` or `history` is selected.
 */
export type InvoiceParent = Invoice & { readonly detailed: boolean };
