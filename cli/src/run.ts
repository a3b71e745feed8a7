import type { Command } from 'commander';
import { ConfigError } from '@polaris/shared/config';
import { CliError } from './errors';

/**
 * Runs a CLI program. An error meant for the person at the terminal (a refusal, a wrong
 * environment) is printed as is; anything else with its stack. Either way the exit code is 1.
 */
export async function runCli(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    console.error(error instanceof CliError || error instanceof ConfigError ? error.message : error);
    process.exitCode = 1;
  }
}
