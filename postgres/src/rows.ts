import type { z } from 'zod';

/**
 * Checks the rows of one named query against its schema: a column renamed or retyped in a
 * migration fails here, naming the query, instead of travelling on as a wrong value.
 */
export function parseRows<S extends z.ZodType>(query: string, schema: S, rows: readonly unknown[]): z.output<S>[] {
  return rows.map((row, i) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`).join('; ');
      throw new Error(`postgres ${query}: row ${i} is not what the query promises: ${issues}`);
    }
    return parsed.data;
  });
}

/** The first row of a query that returns at most one, checked. */
export function parseFirstRow<S extends z.ZodType>(query: string, schema: S, rows: readonly unknown[]): z.output<S> | undefined {
  return parseRows(query, schema, rows.slice(0, 1))[0];
}
