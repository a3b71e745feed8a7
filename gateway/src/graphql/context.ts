import type { ApiKeyAuthenticator, ApiKeyScope, Principal } from '@polaris/shared/auth';
import { presentedApiKey, requireScope } from '@polaris/shared/auth';
import type { Backends } from '../backends';

export interface GatewayContext {
  backends: Backends;
  deadlineMs: number;
  /** Authenticates once per request; throws unauthenticated / permission_denied. */
  principal(scope?: ApiKeyScope): Promise<Principal>;
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
    return {
      backends,
      deadlineMs,
      principal: async (scope) => requireScope(await (validated ??= validate()), scope),
    };
  };
}
