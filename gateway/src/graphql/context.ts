import type { ApiKeyAuthenticator, ApiKeyScope, Principal } from '@polaris/shared/auth';
import { bearerToken } from '@polaris/shared/auth';
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
    return {
      backends,
      deadlineMs,
      principal: (scope) => auth.authenticate(key, scope),
    };
  };
}
