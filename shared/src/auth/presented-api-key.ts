import { PolarisError } from '../errors';
import { bearerToken } from './api-key-authenticator';

/** The headers a public request may carry its API key in, as the HTTP framework hands them over. */
export interface ApiKeyHeaders {
  authorization?: string | null;
  'x-api-key'?: string | null;
}

/**
 * The API key a request to the public APIs (collector, gateway) presents: `Authorization: Bearer
 * <key>` or `X-API-Key: <key>` (what many SDKs and webhook senders set), or undefined when it
 * presents none. Both with the same key is fine; with two different keys the request is refused
 * rather than one of them picked silently: the caller's setup is broken and should say so.
 */
export function presentedApiKey(headers: ApiKeyHeaders): string | undefined {
  const bearer = bearerToken(headers.authorization ?? undefined);
  const header = headers['x-api-key']?.trim() || undefined;
  if (bearer !== undefined && header !== undefined && bearer !== header) {
    throw new PolarisError(
      'unauthenticated',
      'conflicting_api_keys',
      'the request carries two different API keys ("Authorization: Bearer" and "X-API-Key"); send one key, in either header',
    );
  }
  return bearer ?? header;
}
