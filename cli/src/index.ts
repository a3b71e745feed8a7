// @polaris/cli: the operator commands (migrate, org, api-key, dead-letter), for the image's own
// CLI (src/main.ts) and for the developer CLI that adds the local stack and the demo (scripts/).
export { registerOperatorCommands } from './operator-commands';
export { loadOperatorConfig, type OperatorConfig, type OperatorFallbacks } from './config';
export { runCli } from './run';
export { CliError } from './errors';
export { formatDuration, formatTable } from './format';
