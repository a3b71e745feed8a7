import { customers, type Customer, type Organization, type Transactable } from '@polaris/postgres';
import { CliError } from '../errors';
import { findOrganization } from '../identity/organizations';
import { refusalsForTerminal } from './billing-flags';

// What the `customer` commands do, through the customer repository of @polaris/postgres (the same
// code the rating-worker serves gRPC with), with refusals worded for the terminal.

const FLAGS = {
  organization_id: '--org',
  external_id: 'the <external-id> argument',
  name: '--name',
  email: '--email',
  currency: '--currency',
  time_zone: '--time-zone',
  subjects: '--subject',
};

export interface CustomerTarget {
  org: string;
  externalId: string;
}

type Found = { organization: Organization; customer: Customer };

export async function createCustomer(
  db: Transactable,
  input: CustomerTarget & { name: string; currency: string; email?: string; timeZone?: string; subjects: string[] },
): Promise<Found> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const customer = await customers.create(db, {
      organizationId: organization.id,
      externalId: input.externalId,
      name: input.name,
      currency: input.currency,
      subjects: input.subjects,
      ...(input.email !== undefined ? { email: input.email } : {}),
      ...(input.timeZone !== undefined ? { timeZone: input.timeZone } : {}),
    });
    return { organization, customer };
  });
}

/** Every customer of the organization, page after page, by external id. */
export async function listCustomers(db: Transactable, input: { org: string; includeArchived: boolean }): Promise<{ organization: Organization; customers: Customer[] }> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const all: Customer[] = [];
    let pageToken: string | undefined;
    do {
      const page = await customers.list(db, { organizationId: organization.id, includeArchived: input.includeArchived, pageSize: 200, ...(pageToken ? { pageToken } : {}) });
      all.push(...page.customers);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return { organization, customers: all };
  });
}

export async function getCustomer(db: Transactable, input: CustomerTarget): Promise<Found> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, customer: await customers.get(db, { organizationId: organization.id, externalId: input.externalId }) };
  });
}

export async function updateCustomer(
  db: Transactable,
  input: CustomerTarget & { name?: string; email?: string; currency?: string; timeZone?: string },
): Promise<Found> {
  const { org, externalId, ...changes } = input;
  if (Object.values(changes).every((value) => value === undefined)) throw new CliError('nothing to change: give --name, --email, --currency or --time-zone');
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, org);
    return { organization, customer: await customers.update(db, { organizationId: organization.id, externalId, ...changes }) };
  });
}

export async function archiveCustomer(db: Transactable, input: CustomerTarget): Promise<Found> {
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, customer: await customers.archive(db, { organizationId: organization.id, externalId: input.externalId }) };
  });
}

/** `customer subjects add|remove`: all the subjects given, or none. */
export async function changeSubjects(db: Transactable, input: CustomerTarget & { subjects: string[]; action: 'add' | 'remove' }): Promise<Found> {
  if (input.subjects.length === 0) throw new CliError('give at least one --subject');
  return refusalsForTerminal(FLAGS, async () => {
    const organization = await findOrganization(db, input.org);
    const target = { organizationId: organization.id, externalId: input.externalId, subjects: input.subjects };
    const customer = input.action === 'add' ? await customers.addSubjects(db, target) : await customers.removeSubjects(db, target);
    return { organization, customer };
  });
}
