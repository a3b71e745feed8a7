import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { withDatabase } from './with-database';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerCustomerCommands(program: Command, config: () => OperatorConfig): void {
  const customer = program.command('customer').description("manage an organization's customers: who is billed, in what currency, for which subjects' usage");

  customer
    .command('create')
    .description('create a customer')
    .argument('<external-id>', "the customer's id in the organization's own system, unique in the organization")
    .requiredOption('--org <org>', 'organization id or slug')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--currency <code>', 'ISO 4217 currency it is billed in, e.g. USD')
    .option('--email <email>', 'billing email')
    .option('--time-zone <zone>', 'IANA time zone its calendar periods start in (default UTC), e.g. Europe/Paris')
    .option('--subject <subject>', 'a CloudEvents subject whose usage is this customer’s; repeat for more', collect, [])
    .option('--json', 'print JSON')
    .action(async (externalId: string, options: { org: string; name: string; currency: string; email?: string; timeZone?: string; subject: string[]; json?: boolean }) => {
      const { createCustomer } = await import('../billing/customers');
      const { customerJson, customerText } = await import('../billing/customer-listing');
      const { organization, customer: created } = await withDatabase(config(), (db) => createCustomer(db, { ...options, externalId, subjects: options.subject }));
      console.log(options.json ? JSON.stringify(customerJson(created)) : `customer created\n${customerText(organization, created)}`);
    });

  customer
    .command('list')
    .description("list an organization's customers, by external id")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--all', 'include archived customers')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; all?: boolean; json?: boolean }) => {
      const { listCustomers } = await import('../billing/customers');
      const { customerJson, customersText } = await import('../billing/customer-listing');
      const { organization, customers } = await withDatabase(config(), (db) => listCustomers(db, { org: options.org, includeArchived: options.all === true }));
      console.log(options.json ? JSON.stringify(customers.map(customerJson)) : customersText(organization, customers));
    });

  customer
    .command('get')
    .description('show a customer and its subjects')
    .argument('<external-id>', 'the customer')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (externalId: string, options: { org: string; json?: boolean }) => {
      const { getCustomer } = await import('../billing/customers');
      const { customerJson, customerText } = await import('../billing/customer-listing');
      const { organization, customer: found } = await withDatabase(config(), (db) => getCustomer(db, { org: options.org, externalId }));
      console.log(options.json ? JSON.stringify(customerJson(found)) : customerText(organization, found));
    });

  customer
    .command('update')
    .description('edit a customer; currency and time zone only while it has never subscribed')
    .argument('<external-id>', 'the customer')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--name <name>', 'new display name')
    .option('--email <email>', 'new billing email ("" to clear it)')
    .option('--currency <code>', 'new ISO 4217 currency')
    .option('--time-zone <zone>', 'new IANA time zone')
    .option('--json', 'print JSON')
    .action(async (externalId: string, options: { org: string; name?: string; email?: string; currency?: string; timeZone?: string; json?: boolean }) => {
      const { updateCustomer } = await import('../billing/customers');
      const { customerJson, customerText } = await import('../billing/customer-listing');
      const { json, ...changes } = options;
      const { organization, customer: updated } = await withDatabase(config(), (db) => updateCustomer(db, { ...changes, externalId }));
      console.log(json ? JSON.stringify(customerJson(updated)) : `customer updated\n${customerText(organization, updated)}`);
    });

  customer
    .command('archive')
    .description('archive a customer without an active subscription; its invoices and subjects stay')
    .argument('<external-id>', 'the customer')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (externalId: string, options: { org: string; json?: boolean }) => {
      const { archiveCustomer } = await import('../billing/customers');
      const { customerJson, customerText } = await import('../billing/customer-listing');
      const { organization, customer: archived } = await withDatabase(config(), (db) => archiveCustomer(db, { org: options.org, externalId }));
      console.log(options.json ? JSON.stringify(customerJson(archived)) : `customer archived\n${customerText(organization, archived)}`);
    });

  const subjects = customer.command('subjects').description("map CloudEvents subjects to a customer (a subject belongs to at most one customer)");
  for (const action of ['add', 'remove'] as const) {
    subjects
      .command(action)
      .description(action === 'add' ? 'map subjects to the customer: all of them, or none if one belongs to another customer' : 'unmap subjects from the customer')
      .argument('<external-id>', 'the customer')
      .requiredOption('--org <org>', 'organization id or slug')
      .requiredOption('--subject <subject>', 'a subject; repeat for more', collect, [])
      .option('--json', 'print JSON')
      .action(async (externalId: string, options: { org: string; subject: string[]; json?: boolean }) => {
        const { changeSubjects } = await import('../billing/customers');
        const { customerJson, customerText } = await import('../billing/customer-listing');
        const { organization, customer: changed } = await withDatabase(config(), (db) => changeSubjects(db, { org: options.org, externalId, subjects: options.subject, action }));
        console.log(options.json ? JSON.stringify(customerJson(changed)) : `subjects ${action === 'add' ? 'added' : 'removed'}\n${customerText(organization, changed)}`);
      });
  }
}
