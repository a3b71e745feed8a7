/**
 * Splits a migration file into single statements, because ClickHouse 18.16 takes one statement
 * per HTTP request. A statement ends at a line whose last non-blank character is `;`; full-line
 * `--` comments are dropped (so a `;` ending a comment line never splits). A `;` followed by a
 * trailing comment on the same line does not end a statement: keep comments on their own lines.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  const flush = () => {
    const text = current.join('\n').trim();
    if (text) statements.push(text);
    current = [];
  };
  for (const line of sql.split(/\r?\n/)) {
    if (/^\s*--/.test(line)) continue;
    const trimmed = line.trimEnd();
    if (trimmed.endsWith(';')) {
      current.push(trimmed.slice(0, -1));
      flush();
    } else {
      current.push(line);
    }
  }
  flush();
  return statements;
}

export interface MigrationFileName {
  version: number;
  name: string;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** `0001_events_raw.sql` → { version: 1, name: 'events_raw' }; anything else → undefined. */
export function parseMigrationFileName(fileName: string): MigrationFileName | undefined {
  const match = FILE_NAME.exec(fileName);
  if (!match?.[1] || !match[2]) return undefined;
  return { version: Number(match[1]), name: match[2] };
}
