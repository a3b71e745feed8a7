import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));

/** The operator CLI as an operator runs it, in a process of its own; never rejects, check exitCode. */
export const polaris = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', main, ...args], { reject: false });
