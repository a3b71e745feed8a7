import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { generateApiKey, type ApiKeyScope } from '@polaris/shared';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://polaris:polaris@127.0.0.1:55432/polaris';

export interface Tenant {
  orgId: string;
  apiKey: string;
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Revokes every key of an organization, as `polaris api-key revoke` does for one. */
export function revokeKeys(orgId: string): Promise<void> {
  return withClient(async (client) => {
    await client.query('UPDATE api_keys SET revoked_at = now() WHERE org_id = $1 AND revoked_at IS NULL', [orgId]);
  });
}

/** A fresh organization with one API key, so tests never see each other's data. */
export function createTenant(scopes: ApiKeyScope[] = ['events:write', 'usage:read']): Promise<Tenant> {
  return withClient(async (client) => {
    const slug = `e2e-${randomUUID().slice(0, 8)}`;
    const { rows } = await client.query<{ id: string }>('INSERT INTO organizations (slug, name) VALUES ($1, $2) RETURNING id', [slug, slug]);
    const orgId = rows[0]?.id;
    if (!orgId) throw new Error('organization insert returned no id');
    const key = generateApiKey();
    await client.query('INSERT INTO api_keys (org_id, name, prefix, secret_sha256, scopes) VALUES ($1, $2, $3, $4, $5)', [
      orgId, 'e2e', key.prefix, key.sha256, scopes,
    ]);
    return { orgId, apiKey: key.key };
  });
}
