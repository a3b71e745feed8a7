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

/** What a listing shows of a key: enough to tell keys apart, nothing that could be used as one. */
export interface ListedApiKey {
  prefix: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  revokedAt: Date | null;
}

/** An organization's keys, revoked ones included, oldest first. */
export async function listApiKeys(db: pg.ClientBase, org: string): Promise<{ organization: Organization; keys: ListedApiKey[] }> {
  const organization = await findOrganization(db, org);
  // The columns are named one by one, never `*`: secret_sha256 must not leave the database.
  const result = await db.query<ListedApiKey>(
    `SELECT prefix, name, scopes, created_at AS "createdAt", revoked_at AS "revokedAt"
       FROM api_keys WHERE org_id = $1 ORDER BY created_at, prefix`,
    [organization.id],
  );
  return { organization, keys: result.rows };
}
