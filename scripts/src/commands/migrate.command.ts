import type { Command } from 'commander';
import type { CliConfig } from '../config';
import { formatDuration } from '../format';

export function registerMigrateCommand(program: Command, config: () => CliConfig): void {
  program
    .command('migrate')
    .description('apply PostgreSQL and ClickHouse migrations and create the Kafka topics (idempotent)')
    .action(async () => {
      const started = Date.now();
      // Loaded on use: it pulls in @polaris/shared, which `stack` commands do not need.
      const { migrateAll } = await import('../migrate/migrate');
      await migrateAll(config(), (line) => console.log(line));
      console.log(`migrate: done in ${formatDuration(Date.now() - started)}`);
    });
}
