import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { withDatabase } from './with-database';

export function registerSubscriptionCommands(program: Command, config: () => OperatorConfig): void {
  const subscription = program.command('subscription').description("manage customers' subscriptions to published plan versions");

  subscription
    .command('create')
    .description('subscribe a customer (one active subscription each) to a published plan version in its currency')
    .requiredOption('--org <org>', 'organization id or slug')
    .requiredOption('--customer <external-id>', 'the customer')
    .requiredOption('--plan <key>', 'the plan')
    .option('--plan-version <n>', 'a published version (default: the newest published)')
    .option('--start <time>', 'ISO 8601 start, truncated to the minute (default: now), e.g. 2026-11-01T00:00:00Z')
    .option('--anchor <anchor>', 'calendar (periods start on the 1st, the default) or anniversary (on the start day)')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; customer: string; plan: string; planVersion?: string; start?: string; anchor?: string; json?: boolean }) => {
      const { createSubscription } = await import('../billing/subscriptions');
      const { parseAnchor, parseInstant, parseVersion } = await import('../billing/billing-flags');
      const { subscriptionJson, subscriptionText } = await import('../billing/subscription-listing');
      const input = {
        org: options.org,
        customer: options.customer,
        plan: options.plan,
        ...(options.planVersion !== undefined ? { planVersion: parseVersion(options.planVersion, '--plan-version', { zero: true }) } : {}),
        ...(options.start !== undefined ? { startAt: parseInstant(options.start, '--start') } : {}),
        ...(options.anchor !== undefined ? { anchor: parseAnchor(options.anchor) } : {}),
      };
      const { organization, subscription: created } = await withDatabase(config(), (db) => createSubscription(db, input));
      console.log(options.json ? JSON.stringify(subscriptionJson(created)) : `subscription created\n${subscriptionText(organization, created)}`);
    });

  subscription
    .command('list')
    .description("list an organization's subscriptions (or one customer's), oldest start first")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--customer <external-id>', "only this customer's")
    .option('--json', 'print JSON')
    .action(async (options: { org: string; customer?: string; json?: boolean }) => {
      const { listSubscriptions } = await import('../billing/subscriptions');
      const { subscriptionJson, subscriptionsText } = await import('../billing/subscription-listing');
      const { organization, subscriptions } = await withDatabase(config(), (db) => listSubscriptions(db, options));
      console.log(options.json ? JSON.stringify(subscriptions.map((s) => subscriptionJson(s))) : subscriptionsText(organization, subscriptions));
    });

  subscription
    .command('get')
    .description('show a subscription: its current period and its phases')
    .argument('<subscription-id>', 'the subscription')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { org: string; json?: boolean }) => {
      const { getSubscription } = await import('../billing/subscriptions');
      const { subscriptionJson, subscriptionText } = await import('../billing/subscription-listing');
      const { organization, subscription: found } = await withDatabase(config(), (db) => getSubscription(db, { org: options.org, id }));
      console.log(options.json ? JSON.stringify(subscriptionJson(found)) : subscriptionText(organization, found));
    });

  subscription
    .command('change-plan')
    .description('move to another published plan version at the end of the current period (no proration)')
    .argument('<subscription-id>', 'the subscription')
    .requiredOption('--org <org>', 'organization id or slug')
    .requiredOption('--plan <key>', 'the plan')
    .option('--plan-version <n>', 'a published version (default: the newest published)')
    .option('--effective-at <time>', 'must be the end of the current period, the only instant there is (default)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { org: string; plan: string; planVersion?: string; effectiveAt?: string; json?: boolean }) => {
      const { changeSubscriptionPlan } = await import('../billing/subscriptions');
      const { parseInstant, parseVersion } = await import('../billing/billing-flags');
      const { subscriptionJson, subscriptionText } = await import('../billing/subscription-listing');
      const input = {
        org: options.org,
        id,
        plan: options.plan,
        ...(options.planVersion !== undefined ? { planVersion: parseVersion(options.planVersion, '--plan-version', { zero: true }) } : {}),
        ...(options.effectiveAt !== undefined ? { effectiveAt: parseInstant(options.effectiveAt, '--effective-at') } : {}),
      };
      const { organization, subscription: changed } = await withDatabase(config(), (db) => changeSubscriptionPlan(db, input));
      console.log(options.json ? JSON.stringify(subscriptionJson(changed)) : `plan change scheduled\n${subscriptionText(organization, changed)}`);
    });

  subscription
    .command('cancel')
    .description('cancel at the end of the current period, which is still billed')
    .argument('<subscription-id>', 'the subscription')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { org: string; json?: boolean }) => {
      const { cancelSubscription } = await import('../billing/subscriptions');
      const { subscriptionJson, subscriptionText } = await import('../billing/subscription-listing');
      const { organization, subscription: canceled } = await withDatabase(config(), (db) => cancelSubscription(db, { org: options.org, id }));
      console.log(options.json ? JSON.stringify(subscriptionJson(canceled)) : `subscription canceled\n${subscriptionText(organization, canceled)}`);
    });
}
