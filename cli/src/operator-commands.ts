import type { Command } from 'commander';
import { registerApiKeyCommands } from './commands/api-key.command';
import { registerDeadLetterCommands } from './commands/dead-letter.command';
import { registerMeterCommands } from './commands/meter.command';
import { registerCustomerCommands } from './commands/customer.command';
import { registerPlanCommands } from './commands/plan.command';
import { registerSubscriptionCommands } from './commands/subscription.command';
import { registerInvoiceCommands } from './commands/invoice.command';
import { registerMigrateCommand } from './commands/migrate.command';
import { registerOrgCommands } from './commands/org.command';
import { registerThresholdCommands } from './commands/threshold.command';
import { registerWebhookCommands } from './commands/webhook.command';
import type { OperatorConfig } from './config';

/**
 * The commands operators run against a deployment: `migrate`, `org`, `api-key`, `meter`,
 * `customer`, `plan`, `subscription`, `invoice`, `dlq` (alias `dead-letter`).
 * `config` is called on first use, so `--help` works even with a broken environment.
 */
export function registerOperatorCommands(program: Command, config: () => OperatorConfig): void {
  registerMigrateCommand(program, config);
  registerOrgCommands(program, config);
  registerApiKeyCommands(program, config);
  registerMeterCommands(program, config);
  registerCustomerCommands(program, config);
  registerPlanCommands(program, config);
  registerSubscriptionCommands(program, config);
  registerInvoiceCommands(program, config);
  registerThresholdCommands(program, config);
  registerDeadLetterCommands(program, config);
  registerWebhookCommands(program, config);
}
