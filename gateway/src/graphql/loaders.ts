import DataLoader from 'dataloader';
import type { Customer, Invoice } from '@polaris/proto';
import { callUnary } from '@polaris/shared/grpc';
import type { Backends } from '../backends';

/**
 * Per-request DataLoaders for what nested fields look up: a page of 50 invoices (or
 * subscriptions) selecting `customer` asks Customers once per distinct customer, not once per
 * row, and `lines` of a listed invoice (ListInvoices answers none) is one GetInvoice per invoice
 * and only when selected. The cache lives as long as the request: never across organizations or
 * requests. Billing has no batch lookup by ids yet, so a batch is its distinct ids asked side by side.
 */
export interface RequestLoaders {
  customer: DataLoader<string, Customer>;
  /** The invoice with its lines and history. */
  invoice: DataLoader<string, Invoice>;
}

/** DataLoader wants each failure as an Error at its key's place, not a rejected batch. */
const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export function requestLoaders(backends: Backends, deadlineMs: number, organization: () => Promise<string>): RequestLoaders {
  const byId = <V>(fetch: (organizationId: string, id: string) => Promise<V>) =>
    new DataLoader<string, V>(async (ids) => {
      const organizationId = await organization();
      return Promise.all(ids.map((id) => fetch(organizationId, id).catch(asError)));
    });
  const { customers, invoices } = backends;
  return {
    customer: byId((organizationId, customerId) =>
      callUnary('billing', customers.getCustomer.bind(customers), { organizationId, customerId, externalId: '' }, deadlineMs, { actingFor: organizationId }),
    ),
    invoice: byId((organizationId, invoiceId) =>
      callUnary('billing', invoices.getInvoice.bind(invoices), { organizationId, invoiceId }, deadlineMs, { actingFor: organizationId }),
    ),
  };
}
