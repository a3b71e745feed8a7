/**
 * Test support (integration tests only): a customer subscribed to a published plan, made through
 * the catalog repositories exactly as the Customers, Plans and Subscriptions services make them.
 */
import { randomBytes } from 'node:crypto';
import { customers, plans, subscriptions, type Customer, type Pool, type Subscription } from '@polaris/postgres';
import type { BillingAnchor, PriceInput } from '@polaris/shared/billing';

export interface Subscribed {
  customer: Customer;
  subscription: Subscription;
  planKey: string;
}

export async function subscribedCustomer(
  pool: Pool,
  opts: { organizationId: string; prices: PriceInput[]; subjects: string[]; startAt: Date; currency?: string; timeZone?: string; anchor?: BillingAnchor },
): Promise<Subscribed> {
  const tag = randomBytes(4).toString('hex');
  const { organizationId } = opts;
  const currency = opts.currency ?? 'USD';
  const customer = await customers.create(pool, {
    organizationId,
    externalId: `cust-${tag}`,
    name: `Customer ${tag}`,
    currency,
    ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
    subjects: opts.subjects,
  });
  const planKey = `plan_${tag}`;
  await plans.create(pool, { organizationId, key: planKey, currency, prices: opts.prices });
  await plans.publishVersion(pool, { organizationId, planKey, version: 1 });
  const subscription = await subscriptions.create(pool, {
    organizationId,
    customer: { customerId: customer.id },
    planKey,
    startAt: opts.startAt,
    ...(opts.anchor ? { billingAnchor: opts.anchor } : {}),
  });
  return { customer, subscription, planKey };
}
