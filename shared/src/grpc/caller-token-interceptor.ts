import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import type { InternalAuth } from './internal-token';

/**
 * Where callUnary tells the interceptor which organization a call acts for. The interceptor
 * removes it before the call leaves: the org travels only inside the signed token.
 */
export const ACTING_FOR_KEY = 'polaris-acting-for';

/**
 * Gives every call of a client a fresh token from `auth`: audience = the called service (from
 * the method path, /polaris.v1.Identity/GetOrganization → polaris.v1.Identity), org = what the
 * call acts for. Minted per call, so no token outlives its call by more than its short lifetime.
 */
export function callerTokenInterceptor(auth: InternalAuth): Interceptor {
  return (options, nextCall) => {
    const audience = options.method_definition.path.split('/')[1] ?? '';
    return new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const actingFor = metadata.get(ACTING_FOR_KEY)[0]?.toString();
        metadata.remove(ACTING_FOR_KEY);
        // grpc-js holds the request until next() runs, so minting may take its (short) time.
        auth.mint(audience, actingFor).then(
          (token) => {
            metadata.set('authorization', `Bearer ${token}`);
            next(metadata, listener);
          },
          // Cannot happen with a valid key; were it to, the server's answer names the missing token.
          () => next(metadata, listener),
        );
      },
    });
  };
}
