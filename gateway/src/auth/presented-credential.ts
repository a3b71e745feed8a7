import { presentedApiKey, type ApiKeyHeaders } from '@polaris/shared/auth';

/** A credential as a request presents it, told apart by its shape. */
export type PresentedCredential = { kind: 'api_key'; key: string } | { kind: 'jwt'; token: string };

/**
 * Three base64url parts joined by dots: a JWS compact serialization. API keys
 * (`pol_xxxxxxxx_<32 base62>`) never hold a dot, so the two can never be mistaken for each other.
 */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The credential of a request: `Authorization: Bearer <API key or JWT>` or `X-API-Key: <API key>`
 * (presentedApiKey's rules: both headers with different values are refused), undefined when it
 * presents none.
 */
export function presentedCredential(headers: ApiKeyHeaders): PresentedCredential | undefined {
  const value = presentedApiKey(headers);
  if (value === undefined) return undefined;
  return JWT_SHAPE.test(value) ? { kind: 'jwt', token: value } : { kind: 'api_key', key: value };
}
