import { isOrganizationId, organizations, type Organization, type Queryable } from '@polaris/postgres';
import { PolarisError } from '@polaris/shared/errors';
import { CliError } from '../errors';

// What the `org` commands (and `api-key --org`) need from the identity repositories of
// @polaris/postgres, with their refusals worded for the person at the terminal.

/** A refusal of the repository (bad input, slug taken) as a CliError: printed without a stack. */
export function asCliError(error: unknown, hints: Record<string, string> = {}): unknown {
  if (!(error instanceof PolarisError) || error.kind !== 'invalid_argument') return error;
  const hint = hints[error.code];
  return new CliError(hint ? `${error.message}; ${hint}` : error.message);
}

export async function createOrganization(db: Queryable, input: { name: string; slug?: string }): Promise<Organization> {
  try {
    return await organizations.create(db, input);
  } catch (error) {
    throw asCliError(error, { invalid_organization_slug: 'pass --slug' });
  }
}

/** Looks an organization up by id (a UUID) or by slug. */
export async function findOrganization(db: Queryable, idOrSlug: string): Promise<Organization> {
  const byId = isOrganizationId(idOrSlug);
  const found = byId ? await organizations.findById(db, idOrSlug) : await organizations.findBySlug(db, idOrSlug);
  if (!found) throw new CliError(`no organization with ${byId ? 'id' : 'slug'} ${JSON.stringify(idOrSlug)}`);
  return found;
}

export const listOrganizations = (db: Queryable): Promise<Organization[]> => organizations.list(db);
