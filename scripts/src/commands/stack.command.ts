import type { Command } from 'commander';
import type { DevConfig } from '../config';
import { formatDuration, formatTable } from '@polaris/cli';
import { stackDown, stackReset, stackStatus, stackUp } from '../stack/stack';

const log = (line: string) => console.log(line);

export function registerStackCommands(program: Command, config: () => DevConfig): void {
  const stack = program.command('stack').description('run the local PostgreSQL, ClickHouse, Kafka and Redis (state in .stack/)');

  stack
    .command('up')
    .description('install what is missing, start every service and wait until each is ready')
    .action(async () => {
      const started = Date.now();
      await stackUp(config(), log);
      log(`stack: ready in ${formatDuration(Date.now() - started)}`);
    });

  stack
    .command('down')
    .description('stop the services this stack started (by pidfile)')
    .action(async () => {
      await stackDown(config(), log);
    });

  stack
    .command('status')
    .description('show each service; exits 1 unless all are ready')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const statuses = await stackStatus(config());
      if (options.json) {
        log(JSON.stringify(statuses, null, 2));
      } else {
        const rows = statuses.map((s) => [s.service, s.pid === null ? '-' : String(s.pid), String(s.port), s.state, s.note]);
        log(formatTable(['SERVICE', 'PID', 'PORT', 'STATE', 'NOTE'], rows));
      }
      if (statuses.some((s) => s.state !== 'ready')) process.exitCode = 1;
    });

  stack
    .command('reset')
    .description('stop the stack and delete its state (keeps the downloaded Kafka jars)')
    .action(async () => {
      await stackReset(config(), log);
    });
}
