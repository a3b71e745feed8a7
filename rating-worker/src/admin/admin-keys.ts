import { LRUCache } from 'lru-cache';
import { apiKeys, type Queryable } from '@polaris/postgres';
import { apiKeyPrefix, hashApiKey } from '@polaris/shared/auth';

/** Who a valid API key belongs to, as the admin pages need it (to decide, and to log who acted). */
export interface KeyHolder {
  keyId: string;
  keyPrefix: string;
  organizationId: string;
  scopes: readonly string[];
}

/** Resolves a presented API key: its holder, or undefined when it is malformed, unknown or revoked. */
export type AdminAuthenticate = (apiKey: string) => Promise<KeyHolder | undefined>;

/**
 * How long an answer is reused. A browser sends the credentials with every request of the board
 * (it polls every few seconds), so each would otherwise be a database lookup. The cost: a revoked
 * key, or one that lost `admin`, keeps working this long.
 */
const VALID_TTL_MS = 10_000;
// Unknown keys are remembered more briefly, so a freshly created key works almost at once.
const UNKNOWN_TTL_MS = 2_000;

/**
 * Validates keys against PostgreSQL through the api-keys repository, as Identity.ValidateApiKey
 * does (rating-worker/src/identity/identity.grpc.ts): only sha256(key) is looked up, and a
 * malformed key never reaches the database. Answers are cached (above) by the key's hash, so the
 * cache holds no usable secret.
 */
export function postgresKeyAuthenticator(db: Queryable): AdminAuthenticate {
  const cache = new LRUCache<string, { holder: KeyHolder | undefined }>({ max: 1_000, ttl: VALID_TTL_MS });
  return async (apiKey) => {
    if (!apiKeyPrefix(apiKey)) return undefined;
    const hash = hashApiKey(apiKey);
    const cacheKey = hash.toString('base64');
    const cached = cache.get(cacheKey);
    if (cached) return cached.holder;
    const found = await apiKeys.findActiveByHash(db, hash);
    const holder = found && {
      keyId: found.apiKey.id,
      keyPrefix: found.apiKey.prefix,
      organizationId: found.organization.id,
      scopes: found.apiKey.scopes,
    };
    cache.set(cacheKey, { holder }, { ttl: holder ? VALID_TTL_MS : UNKNOWN_TTL_MS });
    return holder;
  };
}
