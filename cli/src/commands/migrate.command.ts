import { constants } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { onStopSignal } from '@polaris/shared/signals';
import type { OperatorConfig } from '../config';
import { formatDuration } from '../format';
import { SCHEMA_STORES, type SchemaStore } from '../migrate/schema-stores';

function storeList(value: string): SchemaStore[] {
  const stores = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = stores.filter((s) => !(SCHEMA_STORES as readonly string[]).includes(s));
  if (stores.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`expected a comma-separated list of ${SCHEMA_STORES.join(', ')}`);
  return stores as SchemaStore[];
}

function seconds(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return Number(value);
}

export function registerMigrateCommand(program: Command, config: () => OperatorConfig): void {
  program
    .command('migrate')
    .description('apply PostgreSQL and ClickHouse migrations and create the Kafka topics (idempotent)')
    .option('--wait', "apply nothing: wait until the stores have this build's schema (a service's init container)")
    .option('--only <stores>', `with --wait: the stores to wait for (${SCHEMA_STORES.join(',')})`, storeList, [...SCHEMA_STORES])
    .option('--timeout <seconds>', 'with --wait: give up (exit 1) after this long', seconds, 600)
    .action(async (options: { wait?: boolean; only: SchemaStore[]; timeout: number }) => {
      const started = Date.now();
      const verb = options.wait ? 'migrate --wait' : 'migrate';
      // A Job or init container being stopped must stop now, not at its grace period's SIGKILL.
      // Nothing is left half-done: PostgreSQL migrations run in one transaction, a ClickHouse
      // migration is recorded only after its last statement, topics are created whole.
      onStopSignal((signal) => {
        console.error(`${verb}: ${signal} received, stopping; a migration cut short is not recorded and runs again with the next migrate`);
        process.exit(128 + constants.signals[signal]);
      });
      // Loaded on use: the store clients and migration runners, which no other command needs.
      if (options.wait) {
        const { waitForSchema } = await import('../migrate/wait-for-schema');
        await waitForSchema(config(), { stores: options.only, timeoutMs: options.timeout * 1000, log: (line) => console.log(line) });
      } else {
        const { migrateAll } = await import('../migrate/migrate');
        await migrateAll(config(), (line) => console.log(line));
      }
      console.log(`${verb}: done in ${formatDuration(Date.now() - started)}`);
    });
}
