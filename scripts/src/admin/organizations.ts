import type pg from 'pg';
import { CliError } from '../errors';

export interface Organization {
  id: string;
  slug: string;
  name: string;
}

/** Same rule as the CHECK constraint in postgres/migrations/1700000000001_identity.sql. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23505';
}

export async function createOrganization(db: pg.ClientBase, input: { name: string; slug?: string }): Promise<Organization> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw new CliError('organization name must be 1 to 200 characters');
  const slug = input.slug ?? slugify(name);
  if (!SLUG_PATTERN.test(slug)) {
    throw new CliError(`slug ${JSON.stringify(slug)} must match ${SLUG_PATTERN.source}; pass --slug`);
  }
  try {
    const result = await db.query<Organization>(
      'INSERT INTO organizations (slug, name) VALUES ($1, $2) RETURNING id, slug, name',
      [slug, name],
    );
    const row = result.rows[0];
    if (!row) throw new Error('INSERT … RETURNING returned no row');
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) throw new CliError(`an organization with slug ${JSON.stringify(slug)} already exists`);
    throw error;
  }
}

/** Looks an organization up by id (a UUID) or by slug. */
export async function findOrganization(db: pg.ClientBase, idOrSlug: string): Promise<Organization> {
  const byId = UUID_PATTERN.test(idOrSlug);
  const result = await db.query<Organization>(
    `SELECT id, slug, name FROM organizations WHERE ${byId ? 'id = $1::uuid' : 'slug = $1'}`,
    [idOrSlug],
  );
  const row = result.rows[0];
  if (!row) throw new CliError(`no organization with ${byId ? 'id' : 'slug'} ${JSON.stringify(idOrSlug)}`);
  return row;
}

export interface ListedOrganization extends Organization {
  createdAt: Date;
}

/** Every organization, oldest first, so a new one shows up at the bottom of the list. */
export async function listOrganizations(db: pg.ClientBase): Promise<ListedOrganization[]> {
  const result = await db.query<ListedOrganization>(
    'SELECT id, slug, name, created_at AS "createdAt" FROM organizations ORDER BY created_at, slug',
  );
  return result.rows;
}
