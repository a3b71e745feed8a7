// The operator CLI of the image (`node cli/dist/polaris.js migrate`): the production commands
// alone. Developers run `npx polaris`, which adds the local stack and the demo (scripts/src/cli.ts).
// First: SIGTERM/SIGINT are handled from here on, while the rest loads (shared/src/service/signals.ts).
import '@polaris/shared/signals';
import { Command } from 'commander';
import { loadOperatorConfig, type OperatorConfig } from './config';
import { registerOperatorCommands } from './operator-commands';
import { runCli } from './run';

let cached: OperatorConfig | undefined;
const config = (): OperatorConfig => (cached ??= loadOperatorConfig());

const program = new Command('polaris').description('Polaris operator CLI').showHelpAfterError();
registerOperatorCommands(program, config);
await runCli(program);
