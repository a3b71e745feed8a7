import { customers, type CustomerRef as StoredRef, type Pool } from '@polaris/postgres';
import { type GrpcServiceBinding, type MethodAccess, type UnaryWrapper } from '@polaris/shared/grpc';
import {
  CustomersService,
  type CreateCustomerRequest,
  type Customer,
  type CustomerRef,
  type CustomerSubjectsRequest,
  type ListCustomersRequest,
  type ListCustomersResponse,
  type UpdateCustomerRequest,
} from '@polaris/proto';
import { customerToProto } from './billing-proto';
import { batchGetCustomers } from './customers-batch.grpc';

/** A customer reference as the repository takes it; a request without one has no organization (refused). */
export function customerRef(ref: CustomerRef | undefined): StoredRef {
  return { organizationId: ref?.organizationId ?? '', customerId: ref?.customerId ?? '', externalId: ref?.externalId ?? '' };
}

/**
 * polaris.v1.Customers over PostgreSQL. Every call acts for the organization of the API key the
 * gateway validated, or for the one an operator names; the repositories filter every query by it.
 */
export function customersService(pool: Pool, unary: UnaryWrapper): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.Customers/${name}`;
  const tenant: MethodAccess = { callers: ['gateway', 'operator'], organization: 'request' };
  return {
    name: 'polaris.v1.Customers',
    definition: CustomersService,
    access: {
      createCustomer: tenant,
      getCustomer: tenant,
      listCustomers: tenant,
      updateCustomer: tenant,
      archiveCustomer: tenant,
      addCustomerSubjects: tenant,
      removeCustomerSubjects: tenant,
      batchGetCustomers: tenant,
    },
    implementation: {
      createCustomer: unary<CreateCustomerRequest, Customer>(method('CreateCustomer'), async (req) =>
        customerToProto(
          await customers.create(pool, {
            organizationId: req.organizationId,
            externalId: req.externalId,
            name: req.name,
            email: req.email,
            currency: req.currency,
            timeZone: req.timeZone,
            subjects: req.subjects,
          }),
        ),
      ),
      getCustomer: unary<CustomerRef, Customer>(method('GetCustomer'), async (req) => customerToProto(await customers.get(pool, customerRef(req)))),
      listCustomers: unary<ListCustomersRequest, ListCustomersResponse>(method('ListCustomers'), async (req) => {
        const page = await customers.list(pool, {
          organizationId: req.organizationId,
          includeArchived: req.includeArchived,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        return { customers: page.customers.map(customerToProto), nextPageToken: page.nextPageToken ?? '' };
      }),
      updateCustomer: unary<UpdateCustomerRequest, Customer>(method('UpdateCustomer'), async (req) =>
        customerToProto(
          await customers.update(pool, {
            ...customerRef(req.customer),
            ...(req.name !== undefined ? { name: req.name } : {}),
            ...(req.email !== undefined ? { email: req.email } : {}),
            ...(req.currency !== undefined ? { currency: req.currency } : {}),
            ...(req.timeZone !== undefined ? { timeZone: req.timeZone } : {}),
          }),
        ),
      ),
      archiveCustomer: unary<CustomerRef, Customer>(method('ArchiveCustomer'), async (req) => customerToProto(await customers.archive(pool, customerRef(req)))),
      addCustomerSubjects: unary<CustomerSubjectsRequest, Customer>(method('AddCustomerSubjects'), async (req) =>
        customerToProto(await customers.addSubjects(pool, { ...customerRef(req.customer), subjects: req.subjects })),
      ),
      removeCustomerSubjects: unary<CustomerSubjectsRequest, Customer>(method('RemoveCustomerSubjects'), async (req) =>
        customerToProto(await customers.removeSubjects(pool, { ...customerRef(req.customer), subjects: req.subjects })),
      ),
      batchGetCustomers: batchGetCustomers(pool, unary),
    },
  };
}
