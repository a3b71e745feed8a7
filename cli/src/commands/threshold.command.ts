import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { withDatabase } from './with-database';

// `polaris threshold create|list|delete|firings`: a customer's usage thresholds (README "Usage
// thresholds"), through the rating-worker's UsageThresholds gRPC (RATING_WORKER_GRPC_ADDR,
// INTERNAL_AUTH_SECRET); the organization is looked up in PostgreSQL by id or slug.

async function organizationId(config: OperatorConfig, org: string): Promise<string> {
  const { findOrganization } = await import('../identity/organizations');
  return (await withDatabase(config, (db) => findOrganization(db, org))).id;
}

export function registerThresholdCommands(program: Command, config: () => OperatorConfig): void {
  const threshold = program
    .command('threshold')
    .description("a customer's usage thresholds: fire once per billing period when usage reaches a limit (asks the rating-worker)");

  threshold
    .command('create')
    .description('watch a customer’s usage of a meter: an absolute --quantity, or a --percent of what its plan includes')
    .argument('<customer>', "the customer's external id")
    .requiredOption('--org <org>', 'organization id or slug')
    .requiredOption('--meter <slug>', 'the meter')
    .option('--quantity <n>', 'the limit in the meter’s unit (above 0)')
    .option('--percent <p>', 'a percentage of the plan’s included quantity, in (0, 1000]')
    .option('--json', 'print JSON')
    .action(async (customer: string, options: { org: string; meter: string; quantity?: string; percent?: string; json?: boolean }) => {
      const { withThresholds } = await import('../thresholds/threshold-client');
      const { thresholdsText } = await import('../thresholds/threshold-text');
      const org = await organizationId(config(), options.org);
      const created = await withThresholds(config(), org, (call) =>
        call((c) => c.createUsageThreshold.bind(c), {
          organizationId: org,
          customerId: '',
          externalId: customer,
          meter: options.meter,
          quantity: options.quantity ?? '',
          percent: options.percent ?? '',
        }),
      );
      console.log(options.json ? JSON.stringify(created) : `usage threshold created\n${thresholdsText([created])}`);
    });

  threshold
    .command('list')
    .description("a customer's usage thresholds, oldest first")
    .argument('<customer>', "the customer's external id")
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--all', 'archived ones too')
    .option('--json', 'print JSON')
    .action(async (customer: string, options: { org: string; all?: boolean; json?: boolean }) => {
      const { withThresholds } = await import('../thresholds/threshold-client');
      const { thresholdsText } = await import('../thresholds/threshold-text');
      const org = await organizationId(config(), options.org);
      const { thresholds } = await withThresholds(config(), org, (call) =>
        call((c) => c.listUsageThresholds.bind(c), { organizationId: org, customerId: '', externalId: customer, includeArchived: options.all === true }),
      );
      console.log(options.json ? JSON.stringify(thresholds) : thresholdsText(thresholds));
    });

  threshold
    .command('delete')
    .description('archive a usage threshold: no longer evaluated; its firings stay')
    .argument('<threshold-id>', 'the threshold')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--json', 'print JSON')
    .action(async (thresholdId: string, options: { org: string; json?: boolean }) => {
      const { withThresholds } = await import('../thresholds/threshold-client');
      const { thresholdsText } = await import('../thresholds/threshold-text');
      const org = await organizationId(config(), options.org);
      const archived = await withThresholds(config(), org, (call) => call((c) => c.archiveUsageThreshold.bind(c), { organizationId: org, thresholdId }));
      console.log(options.json ? JSON.stringify(archived) : `usage threshold archived\n${thresholdsText([archived])}`);
    });

  threshold
    .command('firings')
    .description('usage thresholds that fired, newest first: a customer’s, a threshold’s, or the organization’s')
    .requiredOption('--org <org>', 'organization id or slug')
    .option('--customer <external-id>', "only this customer's")
    .option('--threshold <id>', "only this threshold's")
    .option('--limit <n>', 'at most this many (default 50, at most 200)')
    .option('--json', 'print JSON')
    .action(async (options: { org: string; customer?: string; threshold?: string; limit?: string; json?: boolean }) => {
      const { withThresholds } = await import('../thresholds/threshold-client');
      const { firingsText } = await import('../thresholds/threshold-text');
      const { CliError } = await import('../errors');
      const limit = options.limit === undefined ? 50 : /^\d{1,3}$/.test(options.limit) ? Number(options.limit) : 0;
      if (limit < 1 || limit > 200) throw new CliError(`--limit takes a number from 1 to 200, not ${JSON.stringify(options.limit)}`);
      const org = await organizationId(config(), options.org);
      const { firings } = await withThresholds(config(), org, (call) =>
        call((c) => c.listUsageThresholdFirings.bind(c), {
          organizationId: org,
          customerId: '',
          externalId: options.customer ?? '',
          thresholdId: options.threshold ?? '',
          pageSize: limit,
        }),
      );
      console.log(options.json ? JSON.stringify(firings) : firingsText(firings));
    });
}
