import { readFileSync } from 'node:fs';

export function tailLines(file: string, count: number): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count);
}

/**
 * The end of a log, indented under an error message, so that a process that failed to start or
 * to stop explains itself without anyone opening the file.
 */
export function describeLogTail(file: string, count: number): string {
  const lines = tailLines(file, count);
  if (lines.length === 0) return `\n  log ${file}: (empty or missing)`;
  const last = lines.length === 1 ? 'last line' : `last ${lines.length} lines`;
  return `\n  log ${file} (${last}):\n${lines.map((l) => `    ${l}`).join('\n')}`;
}
