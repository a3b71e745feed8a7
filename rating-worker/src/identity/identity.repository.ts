import type { Pool } from '@polaris/shared';

export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
}

export interface ActiveApiKey {
  keyId: string;
  prefix: string;
  scopes: string[];
  organization: OrganizationRow;
}

/** Reads organizations and API keys. Every query is keyed by a value derived from a credential. */
export class IdentityRepository {
  constructor(private readonly pool: Pool) {}

  /** The key whose sha256 matches, if it exists and is not revoked. */
  async findActiveKeyByHash(sha256: Buffer): Promise<ActiveApiKey | undefined> {
    const { rows } = await this.pool.query<{
      key_id: string; prefix: string; scopes: string[]; org_id: string; slug: string; name: string; created_at: Date;
    }>(
      `SELECT k.id AS key_id, k.prefix, k.scopes, o.id AS org_id, o.slug, o.name, o.created_at
         FROM api_keys k JOIN organizations o ON o.id = k.org_id
        WHERE k.secret_sha256 = $1 AND k.revoked_at IS NULL`,
      [sha256],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      keyId: row.key_id,
      prefix: row.prefix,
      scopes: row.scopes,
      organization: { id: row.org_id, slug: row.slug, name: row.name, createdAt: row.created_at },
    };
  }

  async findOrganization(id: string): Promise<OrganizationRow | undefined> {
    const { rows } = await this.pool.query<{ id: string; slug: string; name: string; created_at: Date }>(
      'SELECT id, slug, name, created_at FROM organizations WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row && { id: row.id, slug: row.slug, name: row.name, createdAt: row.created_at };
  }
}
