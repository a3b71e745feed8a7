import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { apiKeys, organizations } from '@polaris/postgres';
import type { ApiKeyScope } from '@polaris/shared/auth';

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
    await apiKeys.revokeAllOf(client, orgId);
  });
}

/** A fresh organization with one API key, so tests never see each other's data. */
export function createTenant(scopes: ApiKeyScope[] = ['events:write', 'usage:read']): Promise<Tenant> {
  // Through the identity repositories, as `polaris org create` and `api-key create` write them.
  return withClient(async (client) => {
    const slug = `e2e-${randomUUID().slice(0, 8)}`;
    const org = await organizations.create(client, { name: slug, slug });
    const { key } = await apiKeys.create(client, { organizationId: org.id, name: 'e2e', scopes });
    return { orgId: org.id, apiKey: key };
  });
}
