import { customers, subscriptions, type Organization, type Subscription, type Transactable } from '@polaris/postgres';
import type { BillingAnchor } from '@polaris/shared/billing';
import { findOrganization } from '../identity/organizations';
import { refusalsForTerminal } from './billing-flags';

// What the `subscription` commands do, through the subscription repository of @polaris/postgres,
// with refusals worded for the terminal.

const FLAGS = {
  organization_id: '--org',
  external_id: '--customer',
  customer_id: '--customer',
  plan_key: '--plan',
  plan_version: '--plan-version',
  start_at: '--start',
  billing_anchor: '--anchor',
  effective_at: '--effective-at',
  subscription_id: 'the <subscription-id> argument',
};

type Found = { organization: Organization; subscription: Subscription };

export async function createSubscription(
  db: Transactable,
  input: { org: string; customer: string; plan: string; planVersion?: number; startAt?: Date; anchor?: BillingAnchor },
): Promise<Found> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const subscription = await subscriptions.create(db, {
      organizationId: organization.id,
      customer: { externalId: input.customer },
      planKey: input.plan,
      ...(input.planVersion !== undefined ? { planVersion: input.planVersion } : {}),
      ...(input.startAt ? { startAt: input.startAt } : {}),
      ...(input.anchor ? { billingAnchor: input.anchor } : {}),
    });
    return { organization, subscription };
  });
}

/** Every subscription of the organization (or of one customer, by external id), oldest start first. */
export async function listSubscriptions(db: Transactable, input: { org: string; customer?: string }): Promise<{ organization: Organization; subscriptions: Subscription[] }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const customerId = input.customer === undefined ? undefined : (await customers.get(db, { organizationId: organization.id, externalId: input.customer })).id;
    const all: Subscription[] = [];
    let pageToken: string | undefined;
    do {
      const page = await subscriptions.list(db, { organizationId: organization.id, pageSize: 200, ...(customerId ? { customerId } : {}), ...(pageToken ? { pageToken } : {}) });
      all.push(...page.subscriptions);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return { organization, subscriptions: all };
  });
}

export async function getSubscription(db: Transactable, input: { org: string; id: string }): Promise<Found> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, subscription: await subscriptions.get(db, { organizationId: organization.id, subscriptionId: input.id }) };
  });
}

export async function changeSubscriptionPlan(
  db: Transactable,
  input: { org: string; id: string; plan: string; planVersion?: number; effectiveAt?: Date },
): Promise<Found> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const subscription = await subscriptions.changePlan(db, {
      organizationId: organization.id,
      subscriptionId: input.id,
      planKey: input.plan,
      ...(input.planVersion !== undefined ? { planVersion: input.planVersion } : {}),
      ...(input.effectiveAt ? { effectiveAt: input.effectiveAt } : {}),
    });
    return { organization, subscription };
  });
}

export async function cancelSubscription(db: Transactable, input: { org: string; id: string }): Promise<Found> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, subscription: await subscriptions.cancel(db, { organizationId: organization.id, subscriptionId: input.id }) };
  });
}
