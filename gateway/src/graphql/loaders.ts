import DataLoader from 'dataloader';
import type { Customer, Invoice, Meter } from '@polaris/proto';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import type { Backends } from '../backends';

/**
 * Per-request DataLoaders for what nested fields look up: a page of invoices (or subscriptions)
 * selecting `customer`, `lines` and `lines { meter }` costs one BatchGetCustomers, one
 * BatchGetInvoices and one BatchGetMeters, whatever the number of rows, never one call per row.
 * The cache lives as long as the request: never across organizations or requests.
 */
export interface RequestLoaders {
  customer: DataLoader<string, Customer>;
  /** The invoice with its lines and history. */
  invoice: DataLoader<string, Invoice>;
  /** A meter by slug; null when the organization has none by that slug. */
  meter: DataLoader<string, Meter | null>;
}

/** The batch RPCs answer at most this many ids (rating-worker/src/billing/batch-lookup.ts). */
const MAX_BATCH = 200;

/**
 * A loader over one batch RPC: `fetch` answers the rows found among the keys (in any order), each
 * key then gets its row, or `missing(key)` for one not found (another organization's id is not
 * found either). A failed call fails every key of the batch with the call's error.
 */
function batched<V, M>(
  organization: () => Promise<string>,
  fetch: (organizationId: string, keys: string[]) => Promise<V[]>,
  keyOf: (row: V) => string,
  missing: (key: string) => M,
): DataLoader<string, V | M> {
  return new DataLoader<string, V | M>(
    async (keys) => {
      const organizationId = await organization();
      const rows = new Map((await fetch(organizationId, [...keys])).map((row) => [keyOf(row), row]));
      return keys.map((key) => rows.get(key) ?? missing(key));
    },
    { maxBatchSize: MAX_BATCH },
  );
}

export function requestLoaders(backends: Backends, deadlineMs: number, organization: () => Promise<string>): RequestLoaders {
  const { customers, invoices, meters } = backends;
  return {
    customer: batched(
      organization,
      async (organizationId, customerIds) =>
        (await callUnary('billing', customers.batchGetCustomers.bind(customers), { organizationId, customerIds }, deadlineMs, { actingFor: organizationId }))
          .customers,
      (c) => c.id,
      (id) => new PolarisError('not_found', 'customer_not_found', `no customer with id ${JSON.stringify(id)} in this organization`, 'customerId'),
    ) as DataLoader<string, Customer>,
    invoice: batched(
      organization,
      async (organizationId, invoiceIds) =>
        (await callUnary('billing', invoices.batchGetInvoices.bind(invoices), { organizationId, invoiceIds }, deadlineMs, { actingFor: organizationId })).invoices,
      (i) => i.id,
      (id) => new PolarisError('not_found', 'invoice_not_found', `no invoice with id ${JSON.stringify(id)} in this organization`, 'id'),
    ) as DataLoader<string, Invoice>,
    meter: batched(
      organization,
      async (organizationId, slugs) =>
        (await callUnary('meters', meters.batchGetMeters.bind(meters), { organizationId, slugs }, deadlineMs, { actingFor: organizationId })).meters,
      (m) => m.slug,
      () => null,
    ),
  };
}
