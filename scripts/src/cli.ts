// `npx polaris`: the operator commands of @polaris/cli (migrate, org, api-key, dead-letter) against
// the local stack, plus what only a developer runs (stack, demo).
import { Command } from 'commander';
import { registerOperatorCommands, runCli } from '@polaris/cli';
import { registerDemoCommand } from './commands/demo.command';
import { registerStackCommands } from './commands/stack.command';
import { loadDevConfig, type DevConfig } from './config';

let cached: DevConfig | undefined;
// Parsed on first use, so `--help` works even with a broken environment.
const config = (): DevConfig => (cached ??= loadDevConfig());

const program = new Command('polaris').description('Polaris developer CLI').showHelpAfterError();
registerStackCommands(program, config);
registerOperatorCommands(program, config);
registerDemoCommand(program, config);
await runCli(program);
