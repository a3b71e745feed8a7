/** PostgreSQL's unique_violation (SQLSTATE 23505), as node-postgres reports it. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23505';
}
