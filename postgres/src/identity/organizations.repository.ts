import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';
import { isUniqueViolation } from '../pg-errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { requireEntityName } from './entity-name';
import { SLUG_PATTERN, slugify } from './organization-slug';

/** An organization (tenant). Its id is also the ClickHouse namespace of its events. */
export const organizationSchema = z.object({
  id: z.guid(),
  slug: z.string(),
  name: z.string(),
  createdAt: z.date(),
});
export type Organization = z.infer<typeof organizationSchema>;

// Every query returns these columns, so every query's rows pass the one schema above.
const COLUMNS = 'id, slug, name, created_at AS "createdAt"';

/** True for what looks like an organization id (a UUID); anything else can only be a slug. */
export function isOrganizationId(value: string): boolean {
  return z.guid().safeParse(value).success;
}

/**
 * Creates an organization; the slug is derived from the name unless given. Refuses a bad name or
 * slug, and a slug already taken, with invalid_argument PolarisErrors.
 */
async function create(db: Queryable, input: { name: string; slug?: string }): Promise<Organization> {
  const name = requireEntityName('organization', input.name);
  const slug = input.slug ?? slugify(name);
  if (!SLUG_PATTERN.test(slug)) {
    throw new PolarisError('invalid_argument', 'invalid_organization_slug', `slug ${JSON.stringify(slug)} must match ${SLUG_PATTERN.source}`, 'slug');
  }
  try {
    const { rows } = await db.query(`INSERT INTO organizations (slug, name) VALUES ($1, $2) RETURNING ${COLUMNS}`, [slug, name]);
    const created = parseFirstRow('organizations.create', organizationSchema, rows);
    if (!created) throw new Error('INSERT … RETURNING returned no row');
    return created;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new PolarisError('invalid_argument', 'organization_slug_taken', `an organization with slug ${JSON.stringify(slug)} already exists`, 'slug');
    }
    throw error;
  }
}

/** `id` must be a UUID (invalid_organization_id otherwise). Under withOrg: a service sees its own organization only. */
async function findById(db: Transactable, id: string): Promise<Organization | undefined> {
  const { rows } = await withOrg(db, id, (tx) => tx.query(`SELECT ${COLUMNS} FROM organizations WHERE id = $1::uuid`, [id]));
  return parseFirstRow('organizations.findById', organizationSchema, rows);
}

async function findBySlug(db: Queryable, slug: string): Promise<Organization | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM organizations WHERE slug = $1`, [slug]);
  return parseFirstRow('organizations.findBySlug', organizationSchema, rows);
}

/** Every organization, oldest first, so a new one shows up at the bottom of a listing. */
async function list(db: Queryable): Promise<Organization[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM organizations ORDER BY created_at, slug`);
  return parseRows('organizations.list', organizationSchema, rows);
}

/**
 * The `organizations` table: the only code that reads or writes it. `create`, `findBySlug` and
 * `list` are the operator CLI's (its owner connection sees every organization; the services' role
 * may not write the table and sees only the organization of its withOrg).
 */
export const organizations = { create, findById, findBySlug, list };
