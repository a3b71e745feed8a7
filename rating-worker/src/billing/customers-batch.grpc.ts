import { customers, withOrg, type Pool } from '@polaris/postgres';
import type { UnaryWrapper } from '@polaris/shared/grpc';
import type { BatchGetCustomersRequest, BatchGetCustomersResponse } from '@polaris/proto';
import { customerToProto } from './billing-proto';
import { lookUpEach } from './batch-lookup';

/**
 * Customers.BatchGetCustomers: the customers a page of invoices or subscriptions names, in one
 * call and one transaction of the organization (withOrg), instead of one GetCustomer per row.
 */
export function batchGetCustomers(pool: Pool, unary: UnaryWrapper) {
  return unary<BatchGetCustomersRequest, BatchGetCustomersResponse>('polaris.v1.Customers/BatchGetCustomers', async (req) => {
    const found = await withOrg(pool, req.organizationId, (tx) =>
      lookUpEach(req.customerIds, 'customer_ids', (customerId) => customers.get(tx, { organizationId: req.organizationId, customerId })),
    );
    return { customers: found.map(customerToProto) };
  });
}
