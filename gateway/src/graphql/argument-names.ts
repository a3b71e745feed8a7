import { PolarisError } from '@polaris/shared/errors';

/**
 * The services name a refused field as the proto does (`dimensions[2].value_path`); a GraphQL
 * caller must read the argument it sent (`input.dimensions[2].valuePath`). `rename` maps one
 * field name; anything it returns unchanged stays as it was.
 */
export function inArgumentTerms(err: unknown, rename: (field: string) => string): unknown {
  if (!(err instanceof PolarisError) || !err.field) return err;
  const field = rename(err.field);
  return field === err.field ? err : new PolarisError(err.kind, err.code, err.message, field);
}

/** `dimensions[2].value_path` → `dimensions[2].valuePath`. */
export const camelCaseField = (field: string): string => field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
