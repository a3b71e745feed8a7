import { ApiKeyAuthenticator, type ApiKeyScope } from '@polaris/shared/auth';
import { requireScope } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { apiKeysOnly, type GatewayAuth } from '../auth/gateway-auth';
import type { GatewayPrincipal } from '../auth/gateway-authenticator';
import { RequestRateLimited } from '../auth/organization-rate-limiter';
import { rateLimitedGraphQLError } from '../auth/rate-limited-error';
import { requestLoaders, type RequestLoaders } from './loaders';

export interface GatewayContext {
  backends: Backends;
  deadlineMs: number;
  /**
   * Authenticates once per request (an API key or a JWT) and counts the request against its
   * organization's rate limit; throws unauthenticated / permission_denied / RATE_LIMITED. Given
   * several scopes, any one of them will do (billing:write also reads).
   */
  principal(scope?: ApiKeyScope | readonly ApiKeyScope[]): Promise<GatewayPrincipal>;
  /** What the identity fields need beyond the principal: the token issuer and polaris.v1.ApiKeys. */
  auth: Pick<GatewayAuth, 'dashboardTokens' | 'apiKeys'>;
  /** Batching and caching of nested lookups, for this request only (loaders.ts). */
  loaders: RequestLoaders;
}

/** The principal, if its key has one of `scopes`; else permission_denied naming the first. */
function requireAnyScope(principal: GatewayPrincipal, scopes: readonly ApiKeyScope[]): GatewayPrincipal {
  if (scopes.some((s) => principal.scopes.includes(s))) return principal;
  requireScope(principal, scopes[0]);
  return principal;
}

export function contextFactory(authOrKeys: GatewayAuth | ApiKeyAuthenticator, backends: Backends, deadlineMs: number) {
  const auth = authOrKeys instanceof ApiKeyAuthenticator ? apiKeysOnly(authOrKeys) : authOrKeys;
  return ({ request }: { request: Request }): GatewayContext => {
    // The credential is validated, and the request counted, once per request whatever the number
    // of fields (or of mutations, which run one after another and so would not share an in-flight
    // validation); each field then checks only its scope. Reading the headers happens inside it
    // too, so that a request with two different credentials fails each field with
    // conflicting_api_keys, as a missing one would. A request without a valid credential is not
    // counted: the limit is per organization, and it has none.
    let validated: Promise<GatewayPrincipal> | undefined;
    const validate = async () => {
      const found = await auth.authenticator.authenticate({ authorization: request.headers.get('authorization'), 'x-api-key': request.headers.get('x-api-key') });
      try {
        await auth.rateLimiter?.consume(found.organizationId);
      } catch (err) {
        throw err instanceof RequestRateLimited ? rateLimitedGraphQLError(err) : err;
      }
      return found;
    };
    const principal = async (scope?: ApiKeyScope | readonly ApiKeyScope[]) => {
      const found = await (validated ??= validate());
      if (typeof scope === 'string' || scope === undefined) {
        requireScope(found, scope);
        return found;
      }
      return requireAnyScope(found, scope);
    };
    return {
      backends,
      deadlineMs,
      principal,
      auth,
      // A nested field runs only under a root field that checked its scope: the loaders need the organization only.
      loaders: requestLoaders(backends, deadlineMs, async () => (await principal()).organizationId),
    };
  };
}
