import type { OperatorConfig } from '@polaris/cli';
import {
  createCustomer,
  createPlan,
  createSubscription,
  getInvoice,
  listCustomers,
  listInvoices,
  listPlans,
  listSubscriptions,
  publishPlanVersion,
  rateInvoice,
  upcomingInvoice,
  type InvoiceView,
} from '@polaris/cli/billing';
import type { Customer, PlanVersion, Transactable } from '@polaris/postgres';
import { DEMO_CUSTOMERS, DEMO_PLAN } from './demo-plan';

// The demo's billing, through the operator CLI's own actions (@polaris/cli/billing): the catalog
// in PostgreSQL through the repositories, finalization and the estimate through the rating-worker's
// Invoices gRPC as caller `operator`. Every step finds what an earlier demo run made and reuses it.

/** Where the demo bills: the organization (slug), its database and the rating-worker's address. */
export interface BillingTarget {
  db: Transactable;
  config: OperatorConfig;
  org: string;
}

/** The plan's newest published version, creating and publishing the plan on the first run. */
export async function ensureDemoPlan({ db, org }: BillingTarget): Promise<{ version: PlanVersion; created: boolean }> {
  const { plans } = await listPlans(db, { org, includeArchived: true });
  const found = plans.find((p) => p.key === DEMO_PLAN.key);
  if (!found) {
    const { key, name, description, currency } = DEMO_PLAN;
    const { plan } = await createPlan(db, { org, key, name, description, currency, prices: [...DEMO_PLAN.prices], publish: true });
    const [version] = plan.versions;
    if (!version) throw new Error(`plan ${key} was created without a version`);
    return { version, created: true };
  }
  if (found.status === 'archived') throw new Error(`plan ${found.key} of ${org} is archived, so nobody can subscribe to it; delete the demo organization's billing or use another`);
  const published = found.versions.find((v) => v.status === 'published');
  if (published) return { version: published, created: false };
  // Only a draft: a run stopped between creating and publishing.
  const [draft] = found.versions;
  if (!draft) throw new Error(`plan ${found.key} has no version`);
  const { version } = await publishPlanVersion(db, { org, key: found.key, version: draft.version });
  return { version, created: false };
}

/** The demo customers, created on the first run; one refused (its subject mapped elsewhere by hand) is reported, not fatal. */
export async function ensureDemoCustomers({ db, org }: BillingTarget): Promise<{ customers: Customer[]; created: string[]; problems: string[] }> {
  const { customers: existing } = await listCustomers(db, { org, includeArchived: true });
  const customers: Customer[] = [];
  const created: string[] = [];
  const problems: string[] = [];
  for (const wanted of DEMO_CUSTOMERS) {
    const found = existing.find((c) => c.externalId === wanted.externalId);
    if (found?.status === 'archived') {
      problems.push(`customer ${found.externalId} is archived: not billed`);
    } else if (found) {
      customers.push(found);
    } else {
      try {
        const { customer } = await createCustomer(db, { org, externalId: wanted.externalId, name: wanted.name, currency: DEMO_PLAN.currency, subjects: [...wanted.subjects] });
        customers.push(customer);
        created.push(customer.externalId);
      } catch (error) {
        problems.push(`customer ${wanted.externalId} not created: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return { customers, created, problems };
}

/** The demo customers that have no active subscription yet. */
export async function unsubscribed({ db, org }: BillingTarget, customers: readonly Customer[]): Promise<Customer[]> {
  const missing: Customer[] = [];
  for (const customer of customers) {
    const { subscriptions } = await listSubscriptions(db, { org, customer: customer.externalId });
    if (!subscriptions.some((s) => s.status === 'active')) missing.push(customer);
  }
  return missing;
}

/**
 * Subscribes each customer to the plan version from `startAt`, anniversary anchor, so its first
 * period has closed already. Call after the period's events are stored: the rating-worker rates
 * it within a scan.
 */
export async function subscribe({ db, org }: BillingTarget, customers: readonly Customer[], plan: PlanVersion, startAt: Date): Promise<void> {
  for (const customer of customers) {
    await createSubscription(db, { org, customer: customer.externalId, plan: plan.planKey, planVersion: plan.version, startAt, anchor: 'anniversary' });
  }
}

/**
 * Waits until the rating-worker has computed the invoice of each customer's latest closed period
 * (a draft with lines, or one finalized since). Returns those ready, by customer in the order
 * given, and why the others are not, once the deadline has passed.
 */
export async function waitForInvoices(
  { db, org }: BillingTarget,
  customers: readonly Customer[],
  deadlineMs: number,
): Promise<{ ready: Map<string, InvoiceView>; late: string[] }> {
  const deadline = Date.now() + deadlineMs;
  const ready = new Map<string, InvoiceView>();
  const waiting = new Map<string, string>();
  for (;;) {
    for (const customer of customers) {
      if (ready.has(customer.externalId)) continue;
      const { invoices } = await listInvoices(db, { org, customer: customer.externalId, limit: 5 });
      const latest = invoices.find((i) => Date.parse(i.periodEnd) <= Date.now() && i.status !== 'void');
      if (latest && latest.total !== null) ready.set(customer.externalId, latest);
      else waiting.set(customer.externalId, latest?.ratingError ? `rating failed: ${latest.ratingError}` : latest ? 'drafted, not computed yet' : 'no invoice yet');
    }
    if (ready.size === customers.length || Date.now() > deadline) {
      // In the customers' order, not the order they became ready in.
      const ordered = new Map<string, InvoiceView>();
      for (const c of customers) {
        const found = ready.get(c.externalId);
        if (found) ordered.set(c.externalId, found);
      }
      const late = customers.filter((c) => !ready.has(c.externalId)).map((c) => `${c.externalId}: ${waiting.get(c.externalId) ?? 'no invoice yet'}`);
      return { ready: ordered, late };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Finalizes the first draft among `ready` (in the customers' order), as `polaris invoice finalize`
 * does; with none left (earlier demo runs finalized them), the first invoice as it stands.
 */
export async function finalizeOne(target: BillingTarget, ready: ReadonlyMap<string, InvoiceView>): Promise<{ invoice: InvoiceView; finalizedNow: boolean } | undefined> {
  const all = [...ready.values()];
  const draft = all.find((i) => i.status === 'draft' && i.id !== null);
  if (draft?.id) {
    const { invoice } = await rateInvoice(target.db, target.config, { org: target.org, invoiceId: draft.id, action: 'finalize' });
    return { invoice, finalizedNow: true };
  }
  const [first] = all;
  if (!first?.id) return undefined;
  const { invoice } = await getInvoice(target.db, { org: target.org, invoiceId: first.id });
  return { invoice, finalizedNow: false };
}

/** The customer's current period so far, as `polaris invoice upcoming` shows it. */
export async function estimateFor(target: BillingTarget, customerExternalId: string): Promise<InvoiceView> {
  return (await upcomingInvoice(target.db, target.config, { org: target.org, customer: customerExternalId })).invoice;
}

/** The newest invoice of each customer, as `polaris invoice list` shows them. */
export async function latestInvoices({ db, org }: BillingTarget, customers: readonly Customer[]): Promise<InvoiceView[]> {
  const latest: InvoiceView[] = [];
  for (const customer of customers) {
    const { invoices } = await listInvoices(db, { org, customer: customer.externalId, limit: 1 });
    latest.push(...invoices);
  }
  return latest;
}
