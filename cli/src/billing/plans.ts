import { plans, type Organization, type Plan, type PlanVersion, type Transactable } from '@polaris/postgres';
import { CliError } from '../errors';
import { findOrganization } from '../identity/organizations';
import { refusalsForTerminal } from './billing-flags';

// What the `plan` commands do, through the plan repository of @polaris/postgres, with refusals
// worded for the terminal. Prices come from --prices (readPrices) and are checked there.

const FLAGS = {
  organization_id: '--org',
  key: 'the <key> argument',
  plan_key: 'the <key> argument',
  version: 'the <version> argument',
  name: '--name',
  description: '--description',
  currency: '--currency',
  prices: '--prices',
};

export interface PlanTarget {
  org: string;
  key: string;
}

/**
 * Creates a plan with version 1 and, with `publish`, publishes it. Two steps: a publish refused
 * (a meter archived in between) leaves the draft, which `plan version publish` can retry.
 */
export async function createPlan(
  db: Transactable,
  input: PlanTarget & { name: string; description?: string; currency: string; prices: unknown[]; publish: boolean },
): Promise<{ organization: Organization; plan: Plan }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const target = { organizationId: organization.id, key: input.key };
    let plan = await plans.create(db, { ...target, name: input.name, currency: input.currency, prices: input.prices, ...(input.description !== undefined ? { description: input.description } : {}) });
    if (input.publish) {
      await plans.publishVersion(db, { organizationId: organization.id, planKey: plan.key, version: 1 });
      plan = await plans.get(db, target);
    }
    return { organization, plan };
  });
}

/** Every plan of the organization, page after page, by key. */
export async function listPlans(db: Transactable, input: { org: string; includeArchived: boolean }): Promise<{ organization: Organization; plans: Plan[] }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const all: Plan[] = [];
    let pageToken: string | undefined;
    do {
      const page = await plans.list(db, { organizationId: organization.id, includeArchived: input.includeArchived, pageSize: 200, ...(pageToken ? { pageToken } : {}) });
      all.push(...page.plans);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return { organization, plans: all };
  });
}

export async function getPlan(db: Transactable, input: PlanTarget): Promise<{ organization: Organization; plan: Plan }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, plan: await plans.get(db, { organizationId: organization.id, key: input.key }) };
  });
}

export async function archivePlan(db: Transactable, input: PlanTarget): Promise<{ organization: Organization; plan: Plan }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, plan: await plans.archive(db, { organizationId: organization.id, key: input.key }) };
  });
}

/** A new draft version; its currency is the newest version's unless --currency says otherwise. */
export async function createPlanVersion(
  db: Transactable,
  input: PlanTarget & { currency?: string; prices: unknown[]; publish: boolean },
): Promise<{ organization: Organization; version: PlanVersion }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const currency = input.currency ?? (await plans.get(db, { organizationId: organization.id, key: input.key })).versions[0]?.currency;
    if (currency === undefined) throw new CliError('give --currency');
    let version = await plans.createVersion(db, { organizationId: organization.id, planKey: input.key, currency, prices: input.prices });
    if (input.publish) version = await plans.publishVersion(db, { organizationId: organization.id, planKey: input.key, version: version.version });
    return { organization, version };
  });
}

/** Replaces a draft's prices or currency. */
export async function updatePlanVersion(
  db: Transactable,
  input: PlanTarget & { version: number; currency?: string; prices?: unknown[] },
): Promise<{ organization: Organization; version: PlanVersion }> {
  if (input.currency === undefined && input.prices === undefined) throw new CliError('nothing to change: give --prices or --currency');
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const version = await plans.updateVersion(db, {
      organizationId: organization.id,
      planKey: input.key,
      version: input.version,
      ...(input.currency !== undefined ? { currency: input.currency } : {}),
      ...(input.prices !== undefined ? { prices: input.prices } : {}),
    });
    return { organization, version };
  });
}

export async function publishPlanVersion(db: Transactable, input: PlanTarget & { version: number }): Promise<{ organization: Organization; version: PlanVersion }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, version: await plans.publishVersion(db, { organizationId: organization.id, planKey: input.key, version: input.version }) };
  });
}
