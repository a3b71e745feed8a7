import { API_KEY_SCOPES, type ApiKeyScope } from '@polaris/shared/auth';

/**
 * The claims of the JWTs the gateway accepts (README, "Authentication"), besides the registered
 * `iss`, `aud`, `exp`, `iat`, `nbf` and `jti`:
 *
 * - `org_id`: the organization the token acts for (a UUID). Required: like an API key, a token
 *   names exactly one organization, and nothing in a request can name another.
 * - `scope`: the scopes, space-separated (RFC 9068, OAuth 2.0 JWT access tokens), from the same
 *   list as API keys' (`usage:read billing:read`). Scopes Polaris does not know are ignored, so an
 *   identity provider's token may carry its own (`openid`).
 * - `sub`: who the token is for. Tokens from createDashboardToken say `api-key:<key id>`: the key
 *   they were exchanged for, which records such as an invoice's history name as the actor.
 */
export const CLAIMS = { organization: 'org_id', scope: 'scope' } as const;

/** The `sub` of tokens exchanged for an API key. */
export const API_KEY_SUBJECT_PREFIX = 'api-key:';

const KNOWN: readonly string[] = API_KEY_SCOPES;

/** `"usage:read openid billing:read"` → the Polaris scopes in it. */
export function scopesOfClaim(claim: unknown): ApiKeyScope[] {
  if (typeof claim !== 'string') return [];
  return [...new Set(claim.split(' ').filter((s) => KNOWN.includes(s)))] as ApiKeyScope[];
}
