import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { withDatabase } from './with-database';

const PRICES_HELP =
  'a JSON array of prices, inline or @file.json, with the proto field names, e.g. ' +
  `'[{"key":"api","model":"PER_UNIT","meter_slug":"api_calls","unit_price":"0.002","free_quota":"1000"}]'`;

export function registerPlanCommands(program: Command, config: () => OperatorConfig): void {
  const plan = program.command('plan').description("manage an organization's plans and their versioned prices");

  plan
    .command('create')
    .description('create a plan with version 1, a draft holding the prices (publish it to subscribe customers)')
    .argument('<key>', 'the plan key, [a-z][a-z0-9_]*, unique in the organization')
    .requiredOption('--org <org>', 'organization id or slug')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--currency <code>', 'ISO 4217 currency of the prices, e.g. USD')
    .requiredOption('--prices <json>', PRICES_HELP)
    .option('--description <text>', 'what the plan is, for people')
    .option('--publish', 'publish version 1 at once')
    .option('--json', 'print JSON')
    .action(async (key: string, options: { org: string; name: string; currency: string; prices: string; description?: string; publish?: boolean; json?: boolean }) => {
      const { createPlan } = await import('../billing/plans');
      const { readPrices } = await import('../billing/billing-flags');
      const { planJson, planText } = await import('../billing/plan-listing');
      const prices = readPrices(options.prices);
      const { organization, plan: created } = await withDatabase(config(), (db) => createPlan(db, { ...options, key, prices, publish: options.publish === true }));
      console.log(options.json ? JSON.stringify(planJson(created)) : `plan created\n${planText(organization, created)}`);
    });

  plan
    .command('list')
    .description("list an organization's plans, by key")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--all', 'include archived plans')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; all?: boolean; json?: boolean }) => {
      const { listPlans } = await import('../billing/plans');
      const { planJson, plansText } = await import('../billing/plan-listing');
      const { organization, plans } = await withDatabase(config(), (db) => listPlans(db, { org: options.org, includeArchived: options.all === true }));
      console.log(options.json ? JSON.stringify(plans.map(planJson)) : plansText(organization, plans));
    });

  plan
    .command('get')
    .description('show a plan and the prices of each version, newest first')
    .argument('<key>', 'the plan')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (key: string, options: { org: string; json?: boolean }) => {
      const { getPlan } = await import('../billing/plans');
      const { planJson, planText } = await import('../billing/plan-listing');
      const { organization, plan: found } = await withDatabase(config(), (db) => getPlan(db, { org: options.org, key }));
      console.log(options.json ? JSON.stringify(planJson(found)) : planText(organization, found));
    });

  plan
    .command('archive')
    .description('archive a plan: no new subscriptions or versions; current subscriptions go on')
    .argument('<key>', 'the plan')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (key: string, options: { org: string; json?: boolean }) => {
      const { archivePlan } = await import('../billing/plans');
      const { planJson, planText } = await import('../billing/plan-listing');
      const { organization, plan: archived } = await withDatabase(config(), (db) => archivePlan(db, { org: options.org, key }));
      console.log(options.json ? JSON.stringify(planJson(archived)) : `plan archived\n${planText(organization, archived)}`);
    });

  const version = plan.command('version').description("a plan's versions: drafts are edited, published ones never change");

  version
    .command('create')
    .description('add a draft version with the prices given in full')
    .argument('<key>', 'the plan')
    .requiredOption('--org <org>', 'organization id or slug')
    .requiredOption('--prices <json>', PRICES_HELP)
    .option('--currency <code>', 'ISO 4217 currency (default: the newest version’s)')
    .option('--publish', 'publish it at once')
    .option('--json', 'print JSON')
    .action(async (key: string, options: { org: string; prices: string; currency?: string; publish?: boolean; json?: boolean }) => {
      const { createPlanVersion } = await import('../billing/plans');
      const { readPrices } = await import('../billing/billing-flags');
      const { versionJson, versionText } = await import('../billing/plan-listing');
      const prices = readPrices(options.prices);
      const { version: created } = await withDatabase(config(), (db) => createPlanVersion(db, { ...options, key, prices, publish: options.publish === true }));
      console.log(options.json ? JSON.stringify(versionJson(created)) : `plan ${key}: version ${created.version} created\n${versionText(created)}`);
    });

  version
    .command('update')
    .description("replace a draft version's prices or currency")
    .argument('<key>', 'the plan')
    .argument('<version>', 'the draft version number')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--prices <json>', PRICES_HELP)
    .option('--currency <code>', 'ISO 4217 currency')
    .option('--json', 'print JSON')
    .action(async (key: string, number: string, options: { org: string; prices?: string; currency?: string; json?: boolean }) => {
      const { updatePlanVersion } = await import('../billing/plans');
      const { parseVersion, readPrices } = await import('../billing/billing-flags');
      const { versionJson, versionText } = await import('../billing/plan-listing');
      const input = {
        org: options.org,
        key,
        version: parseVersion(number, 'the <version> argument'),
        ...(options.prices !== undefined ? { prices: readPrices(options.prices) } : {}),
        ...(options.currency !== undefined ? { currency: options.currency } : {}),
      };
      const { version: updated } = await withDatabase(config(), (db) => updatePlanVersion(db, input));
      console.log(options.json ? JSON.stringify(versionJson(updated)) : `plan ${key}: version ${updated.version} updated\n${versionText(updated)}`);
    });

  version
    .command('publish')
    .description('publish a draft version: subscriptions may take it, and it never changes again')
    .argument('<key>', 'the plan')
    .argument('<version>', 'the version number')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (key: string, number: string, options: { org: string; json?: boolean }) => {
      const { publishPlanVersion } = await import('../billing/plans');
      const { parseVersion } = await import('../billing/billing-flags');
      const { versionJson, versionText } = await import('../billing/plan-listing');
      const target = { org: options.org, key, version: parseVersion(number, 'the <version> argument') };
      const { version: published } = await withDatabase(config(), (db) => publishPlanVersion(db, target));
      console.log(options.json ? JSON.stringify(versionJson(published)) : `plan ${key}: version ${published.version} published\n${versionText(published)}`);
    });
}
