import { apiKeys, type Organization, type Queryable } from '@polaris/postgres';
import { CliError } from '../errors';
import { apiKeyPrefix } from '@polaris/shared/auth';
import { findOrganization } from './organizations';

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
 * Revokes the key with this prefix unless it is already revoked. With `org`, the key must belong
 * to that organization: a mistyped prefix must not revoke another tenant's key.
 */
export async function revokeApiKey(db: Queryable, input: { prefix: string; org?: string }): Promise<Revocation> {
  const prefix = input.prefix.trim();
  const fromWholeKey = apiKeyPrefix(prefix);
  if (fromWholeKey) {
    // Refused rather than accepted, so nobody learns to paste secrets into shell history.
    throw new CliError(`--prefix takes only the key's prefix, not the whole key: use --prefix ${fromWholeKey}`);
  }
  const expected = input.org === undefined ? undefined : await findOrganization(db, input.org);

  const found = await apiKeys.findByPrefix(db, prefix);
  if (!found) {
    throw new CliError(`no API key with prefix ${JSON.stringify(prefix)}; prefixes look like pol_xxxxxxxx (see \`polaris api-key list --org …\`)`);
  }
  const { apiKey, organization } = found;
  if (expected && expected.id !== organization.id) {
    throw new CliError(
      `API key ${prefix} belongs to organization ${organization.slug} (${organization.id}), not ${expected.slug} (${expected.id}); nothing revoked`,
    );
  }
  const revoked = { prefix, name: apiKey.name, organization };
  if (apiKey.revokedAt) return { ...revoked, revokedAt: apiKey.revokedAt, alreadyRevoked: true };

  const outcome = await apiKeys.revoke(db, apiKey.id);
  if (!outcome) throw new CliError(`API key ${prefix} disappeared while revoking it (its organization was deleted?)`);
  return { ...revoked, ...outcome };
}
