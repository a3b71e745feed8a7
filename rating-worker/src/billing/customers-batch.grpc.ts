import { customers, type Pool } from '@polaris/postgres';
import type { UnaryWrapper } from '@polaris/shared/grpc';
import type { BatchGetCustomersRequest, BatchGetCustomersResponse } from '@polaris/proto';
import { customerToProto } from './billing-proto';
import { batchIds } from './batch-lookup';

/**
 * Customers.BatchGetCustomers: the customers a page of invoices or subscriptions names, in one
 * call and one set-based read (customers.getMany, inside withOrg), instead of one GetCustomer per row.
 */
export function batchGetCustomers(pool: Pool, unary: UnaryWrapper) {
  return unary<BatchGetCustomersRequest, BatchGetCustomersResponse>('polaris.v1.Customers/BatchGetCustomers', async (req) => {
    const found = await customers.getMany(pool, { organizationId: req.organizationId, customerIds: batchIds(req.customerIds, 'customer_ids') });
    return { customers: found.map(customerToProto) };
  });
}
