/** Same rule as the CHECK constraint in postgres/migrations/1700000000001_identity.sql. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** "Acme Corp." → "acme-corp" (may still fail SLUG_PATTERN, e.g. for a one-letter name). */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}
