import type pg from 'pg';
import { CliError } from '../errors';
import { generateApiKey, type ApiKeyScope } from './api-key';
import { findOrganization, isUniqueViolation, type Organization } from './organizations';

export interface CreatedApiKey {
  id: string;
  organization: Organization;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  /** The secret itself: returned once, never stored. */
  key: string;
}

export async function createApiKey(
  db: pg.ClientBase,
  input: { org: string; name: string; scopes: ApiKeyScope[] },
): Promise<CreatedApiKey> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw new CliError('API key name must be 1 to 200 characters');
  const organization = await findOrganization(db, input.org);
  // 36^8 prefixes make a clash very unlikely, but the UNIQUE constraint decides; retry a few times.
  for (let attempt = 1; ; attempt++) {
    const generated = generateApiKey();
    try {
      const result = await db.query<{ id: string }>(
        'INSERT INTO api_keys (org_id, name, prefix, secret_sha256, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [organization.id, name, generated.prefix, generated.sha256, input.scopes],
      );
      const id = result.rows[0]?.id;
      if (!id) throw new Error('INSERT … RETURNING returned no row');
      return { id, organization, name, prefix: generated.prefix, scopes: input.scopes, key: generated.key };
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 3) throw error;
    }
  }
}
