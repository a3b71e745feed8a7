import type pg from 'pg';
import { CliError } from '../errors';
import { apiKeyPrefix } from './api-key';
import { findOrganization, type Organization } from './organizations';

export interface Revocation {
  prefix: string;
  name: string;
  organization: Organization;
  revokedAt: Date;
  /** True when an earlier revocation stands: revoking is idempotent and keeps the first time. */
  alreadyRevoked: boolean;
}

/**
 * Collector and gateway keep a validated key for API_KEY_CACHE_TTL_MS (collector/src/config.ts,
 * gateway/src/config.ts) before asking identity again, so a revocation is not immediate there.
 */
export const REVOCATION_DELAY_NOTE =
  'Collector and gateway cache validated keys: they may still accept a key for up to API_KEY_CACHE_TTL_MS (default 30 s) after its revocation.';

/**
 * Sets revoked_at on the key with this prefix unless it is already set. With `org`, the key must
 * belong to that organization: a mistyped prefix must not revoke another tenant's key.
 */
export async function revokeApiKey(db: pg.ClientBase, input: { prefix: string; org?: string }): Promise<Revocation> {
  const prefix = input.prefix.trim();
  const fromWholeKey = apiKeyPrefix(prefix);
  if (fromWholeKey) {
    // Refused rather than accepted, so nobody learns to paste secrets into shell history.
    throw new CliError(`--prefix takes only the key's prefix, not the whole key: use --prefix ${fromWholeKey}`);
  }
  const expected = input.org === undefined ? undefined : await findOrganization(db, input.org);

  const found = await db.query<{ id: string; name: string; revokedAt: Date | null; orgId: string; orgSlug: string; orgName: string }>(
    `SELECT k.id, k.name, k.revoked_at AS "revokedAt", o.id AS "orgId", o.slug AS "orgSlug", o.name AS "orgName"
       FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE k.prefix = $1`,
    [prefix],
  );
  const key = found.rows[0];
  if (!key) {
    throw new CliError(`no API key with prefix ${JSON.stringify(prefix)}; prefixes look like pol_xxxxxxxx (see \`polaris api-key list --org …\`)`);
  }
  const organization: Organization = { id: key.orgId, slug: key.orgSlug, name: key.orgName };
  if (expected && expected.id !== organization.id) {
    throw new CliError(
      `API key ${prefix} belongs to organization ${organization.slug} (${organization.id}), not ${expected.slug} (${expected.id}); nothing revoked`,
    );
  }
  const revoked = { prefix, name: key.name, organization };
  if (key.revokedAt) return { ...revoked, revokedAt: key.revokedAt, alreadyRevoked: true };

  // `revoked_at IS NULL` keeps the first time if another revocation ran since the SELECT.
  const updated = await db.query<{ revokedAt: Date }>(
    'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING revoked_at AS "revokedAt"',
    [key.id],
  );
  const now = updated.rows[0];
  if (now) return { ...revoked, revokedAt: now.revokedAt, alreadyRevoked: false };
  const again = await db.query<{ revokedAt: Date | null }>('SELECT revoked_at AS "revokedAt" FROM api_keys WHERE id = $1', [key.id]);
  const since = again.rows[0]?.revokedAt;
  if (!since) throw new CliError(`API key ${prefix} disappeared while revoking it (its organization was deleted?)`);
  return { ...revoked, revokedAt: since, alreadyRevoked: true };
}
