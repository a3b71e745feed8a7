import type { CustomerRef } from '@polaris/proto';
import { argumentsNamed, billingReader, billingWriter, callBilling, exactlyOne } from './billing-access';
import { customerStatusOf } from './enums';
import { guarded } from './errors';
import type { Resolvers } from './generated/resolvers-types';
import { connection, pageArgument, pageSize } from './pages';

/** A customer named by `id` or `externalId` (exactly one), in the key's organization. */
function customerRef(organizationId: string, args: { id?: string | null; externalId?: string | null }): CustomerRef {
  exactlyOne({ id: args.id, externalId: args.externalId });
  return { organizationId, customerId: args.id ?? '', externalId: args.externalId ?? '' };
}

// The Customers service names the customer `customer_id` / `external_id` (or `customer` when it
// is archived); these fields took it as `id` / `externalId`.
const BY_REF = { customer_id: 'id', external_id: 'externalId', customer: 'id' };
const refArgument = argumentsNamed(BY_REF);
const updateArgument = argumentsNamed(BY_REF, 'input.');

/** Customers of the key's organization, through the rating-worker's Customers service. */
export const customersResolvers = {
  Query: {
    customers: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      const { customers } = ctx.backends;
      const res = await callBilling(
        ctx,
        customers.listCustomers.bind(customers),
        { organizationId, includeArchived: args.includeArchived ?? false, pageSize: pageSize(args.first), pageToken: args.after ?? '' },
        organizationId,
        pageArgument,
      );
      for (const c of res.customers) ctx.loaders.customer.prime(c.id, c);
      return connection(res.customers, res.nextPageToken);
    }),
    customer: guarded(async (_parent, args, ctx) => {
      const organizationId = await billingReader(ctx);
      const { customers } = ctx.backends;
      return callBilling(ctx, customers.getCustomer.bind(customers), customerRef(organizationId, args), organizationId, refArgument);
    }),
  },
  Mutation: {
    createCustomer: guarded(async (_parent, { input }, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { customers } = ctx.backends;
      return callBilling(
        ctx,
        customers.createCustomer.bind(customers),
        {
          organizationId,
          externalId: input.externalId,
          name: input.name,
          email: input.email ?? '',
          currency: input.currency,
          timeZone: input.timeZone ?? '',
          subjects: input.subjects ?? [],
        },
        organizationId,
        argumentsNamed({}, 'input.'),
      );
    }),
    updateCustomer: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { customers } = ctx.backends;
      const { input } = args;
      return callBilling(
        ctx,
        customers.updateCustomer.bind(customers),
        {
          customer: customerRef(organizationId, args),
          name: input.name ?? undefined,
          email: input.email ?? undefined,
          currency: input.currency ?? undefined,
          timeZone: input.timeZone ?? undefined,
        },
        organizationId,
        updateArgument,
      );
    }),
    archiveCustomer: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { customers } = ctx.backends;
      return callBilling(ctx, customers.archiveCustomer.bind(customers), customerRef(organizationId, args), organizationId, refArgument);
    }),
    addCustomerSubjects: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { customers } = ctx.backends;
      const request = { customer: customerRef(organizationId, args), subjects: args.subjects };
      return callBilling(ctx, customers.addCustomerSubjects.bind(customers), request, organizationId, refArgument);
    }),
    removeCustomerSubjects: guarded(async (_parent, args, ctx) => {
      const { organizationId } = await billingWriter(ctx);
      const { customers } = ctx.backends;
      const request = { customer: customerRef(organizationId, args), subjects: args.subjects };
      return callBilling(ctx, customers.removeCustomerSubjects.bind(customers), request, organizationId, refArgument);
    }),
  },
  Customer: {
    status: (c) => customerStatusOf(c.status),
    createdAt: (c) => c.createdAt as Date,
    updatedAt: (c) => c.updatedAt as Date,
  },
} satisfies Resolvers;
