/**
 * ClickHouse 18.16 has no server-side query parameters, so every value that reaches SQL is
 * rendered here, and only here, as a literal. Identifiers never come from input: callers pick
 * them from allow-lists (see `sqlIdentifier`).
 */

/** A single-quoted string literal. Backslash and quote are the only characters with meaning. */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A non-negative integer literal; refuses anything that is not exactly an integer. */
export function sqlUInt(value: number | bigint): string {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError(`expected a non-negative integer, got ${value}`);
    return value.toString();
  }
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`expected a non-negative safe integer, got ${value}`);
  return String(value);
}

/** A UTC DateTime from epoch milliseconds (whole seconds; DateTime has no sub-second part). */
export function sqlDateTime(epochMs: number): string {
  return `toDateTime(${sqlUInt(Math.floor(epochMs / 1000))}, 'UTC')`;
}

/** `('a', 'b')` for an IN list. An empty list is refused: `IN ()` is a syntax error. */
export function sqlStringList(values: readonly string[]): string {
  if (values.length === 0) throw new RangeError('empty IN list');
  return `(${values.map(sqlString).join(', ')})`;
}

/** An identifier that must be one of `allowed`; anything else is a programming error. */
export function sqlIdentifier<T extends string>(value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (!found) throw new RangeError(`identifier not allowed: ${JSON.stringify(value)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(found)) throw new RangeError(`unsafe identifier in allow-list: ${found}`);
  return found;
}
