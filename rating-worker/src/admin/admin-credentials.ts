import { bearerToken } from '@polaris/shared/auth';

/** The headers an admin request may carry its API key in (Node lower-cases header names). */
export interface CredentialHeaders {
  authorization?: string;
  'x-api-key'?: string | string[];
}

/**
 * The API key an admin request presents, or undefined when it presents none:
 * - `Authorization: Basic base64(user:key)`, what a browser sends after the login prompt. The key
 *   is the password; the user name is ignored (the key alone says who is asking).
 * - `Authorization: Bearer <key>`, as the public APIs take it (scripts, curl).
 * - `X-API-Key: <key>`.
 * An empty password, or a header of another scheme, presents no key: the answer is the login
 * prompt again rather than a refusal the browser would not show.
 */
export function presentedApiKey(headers: CredentialHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon === -1 ? '' : decoded.slice(colon + 1).trim();
      return password === '' ? undefined : password;
    }
    const bearer = bearerToken(authorization);
    if (bearer) return bearer;
  }
  const header = headers['x-api-key'];
  const apiKey = (Array.isArray(header) ? header[0] : header)?.trim();
  return apiKey ? apiKey : undefined;
}
