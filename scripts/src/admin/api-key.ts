import { API_KEY_SCOPES, type ApiKeyScope } from '@polaris/shared';
import { CliError } from '../errors';

// Key format and hashing live in @polaris/shared (shared/src/api-key.ts) so that the CLI, which
// creates keys, and the rating-worker, which checks presented keys, cannot drift apart:
// key = `pol_` + 8 [a-z0-9] (the stored, unique `prefix`) + `_` + 32 base62 chars from
// crypto.randomBytes; the database stores sha256 of the whole key string (UTF-8) as bytea.
export { API_KEY_PATTERN, API_KEY_SCOPES, apiKeyPrefix, generateApiKey, hashApiKey, type ApiKeyScope } from '@polaris/shared';

/** "events:write, usage:read" → ['events:write', 'usage:read'], rejecting unknown or empty lists. */
export function parseScopes(text: string): ApiKeyScope[] {
  const scopes = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  const known: readonly string[] = API_KEY_SCOPES;
  const unknown = scopes.filter((s) => !known.includes(s));
  if (unknown.length > 0) throw new CliError(`unknown scope(s) ${unknown.join(', ')}; known: ${API_KEY_SCOPES.join(', ')}`);
  if (scopes.length === 0) throw new CliError(`at least one scope is needed: ${API_KEY_SCOPES.join(', ')}`);
  return scopes as ApiKeyScope[];
}
