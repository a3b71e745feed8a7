import type { Command } from 'commander';
import type { OperatorConfig } from '../config';
import { formatDuration } from '../format';

export function registerMigrateCommand(program: Command, config: () => OperatorConfig): void {
  program
    .command('migrate')
    .description('apply PostgreSQL and ClickHouse migrations and create the Kafka topics (idempotent)')
    .action(async () => {
      const started = Date.now();
      // Loaded on use: the store clients and migration runners, which no other command needs.
      const { migrateAll } = await import('../migrate/migrate');
      await migrateAll(config(), (line) => console.log(line));
      console.log(`migrate: done in ${formatDuration(Date.now() - started)}`);
    });
}
