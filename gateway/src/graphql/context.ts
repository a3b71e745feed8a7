import type { ApiKeyAuthenticator, ApiKeyScope, Principal } from '@polaris/shared/auth';
import { presentedApiKey, requireScope } from '@polaris/shared/auth';
import type { Backends } from '../backends';
import { requestLoaders, type RequestLoaders } from './loaders';

export interface GatewayContext {
  backends: Backends;
  deadlineMs: number;
  /**
   * Authenticates once per request; throws unauthenticated / permission_denied. Given several
   * scopes, any one of them will do (billing:write also reads).
   */
  principal(scope?: ApiKeyScope | readonly ApiKeyScope[]): Promise<Principal>;
  /** Batching and caching of nested lookups, for this request only (loaders.ts). */
  loaders: RequestLoaders;
}

/** The principal, if its key has one of `scopes`; else permission_denied naming the first. */
function requireAnyScope(principal: Principal, scopes: readonly ApiKeyScope[]): Principal {
  if (scopes.some((s) => principal.scopes.includes(s))) return principal;
  return requireScope(principal, scopes[0]);
}

export function contextFactory(auth: ApiKeyAuthenticator, backends: Backends, deadlineMs: number) {
  return ({ request }: { request: Request }): GatewayContext => {
    // The key is validated once per request, whatever the number of fields (or of mutations,
    // which run one after another and so would not share an in-flight validation); each field
    // then checks only its scope. Reading the headers happens inside it too, so that a request
    // with two different keys fails each field with conflicting_api_keys, as a missing key would.
    let validated: Promise<Principal> | undefined;
    const validate = async () =>
      auth.authenticate(presentedApiKey({ authorization: request.headers.get('authorization'), 'x-api-key': request.headers.get('x-api-key') }));
    const principal = async (scope?: ApiKeyScope | readonly ApiKeyScope[]) => {
      const found = await (validated ??= validate());
      return typeof scope === 'string' || scope === undefined ? requireScope(found, scope) : requireAnyScope(found, scope);
    };
    return {
      backends,
      deadlineMs,
      principal,
      // A nested field runs only under a root field that checked its scope: the loaders need the organization only.
      loaders: requestLoaders(backends, deadlineMs, async () => (await principal()).organizationId),
    };
  };
}
