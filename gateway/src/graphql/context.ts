import type { ApiKeyAuthenticator, ApiKeyScope, Principal } from '@polaris/shared/auth';
import { bearerToken, requireScope } from '@polaris/shared/auth';
import type { Backends } from '../backends';

export interface GatewayContext {
  backends: Backends;
  deadlineMs: number;
  /** Authenticates once per request; throws unauthenticated / permission_denied. */
  principal(scope?: ApiKeyScope): Promise<Principal>;
}

export function contextFactory(auth: ApiKeyAuthenticator, backends: Backends, deadlineMs: number) {
  return ({ request }: { request: Request }): GatewayContext => {
    const key = bearerToken(request.headers.get('authorization') ?? undefined);
    // The key is validated once per request, whatever the number of fields (or of mutations,
    // which run one after another and so would not share an in-flight validation); each field
    // then checks only its scope.
    let validated: Promise<Principal> | undefined;
    return {
      backends,
      deadlineMs,
      principal: async (scope) => requireScope(await (validated ??= auth.authenticate(key)), scope),
    };
  };
}
