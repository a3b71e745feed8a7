import { apiKeys, requireEntityName, type ApiKey, type Organization, type Queryable } from '@polaris/postgres';
import type { ApiKeyScope } from '@polaris/shared/auth';
import { asCliError, findOrganization } from './organizations';

// What `api-key create` and `api-key list` need from the identity repositories of
// @polaris/postgres: organizations named by id or slug, refusals worded for the terminal.

export type CreatedApiKey = ApiKey & {
  organization: Organization;
  /** The secret itself: returned once, never stored. */
  key: string;
};

export async function createApiKey(db: Queryable, input: { org: string; name: string; scopes: ApiKeyScope[] }): Promise<CreatedApiKey> {
  try {
    // The name is checked before the organization is looked up, so a bad name is reported first.
    requireEntityName('API key', input.name);
    const organization = await findOrganization(db, input.org);
    const { apiKey, key } = await apiKeys.create(db, { organizationId: organization.id, name: input.name, scopes: input.scopes });
    return { ...apiKey, organization, key };
  } catch (error) {
    throw asCliError(error);
  }
}

/** What a listing shows of a key: enough to tell keys apart, nothing that could be used as one. */
export type ListedApiKey = Pick<ApiKey, 'prefix' | 'name' | 'scopes' | 'createdAt' | 'revokedAt'>;

/** An organization's keys, revoked ones included, oldest first. */
export async function listApiKeys(db: Queryable, org: string): Promise<{ organization: Organization; keys: ApiKey[] }> {
  const organization = await findOrganization(db, org);
  return { organization, keys: await apiKeys.list(db, organization.id) };
}
