import { Command } from 'commander';
import { loadCliConfig, type CliConfig } from './config';
import { CliError } from './errors';
import { registerAdminCommands } from './commands/admin.command';
import { registerMigrateCommand } from './commands/migrate.command';
import { registerStackCommands } from './commands/stack.command';
import { registerDemoCommand } from './commands/demo.command';
import { registerDeadLetterCommands } from './commands/dead-letter.command';

let cached: CliConfig | undefined;
// Parsed on first use, so `--help` works even with a broken environment.
const config = (): CliConfig => (cached ??= loadCliConfig());

const program = new Command('polaris').description('Polaris developer CLI').showHelpAfterError();
registerStackCommands(program, config);
registerMigrateCommand(program, config);
registerAdminCommands(program, config);
registerDemoCommand(program, config);
registerDeadLetterCommands(program, config);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
}
