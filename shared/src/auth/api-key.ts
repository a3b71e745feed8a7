import { createHash, randomBytes } from 'node:crypto';

/**
 * API keys look like `pol_ab12cd34_<32 base62 chars>`. The part before the second underscore is
 * the prefix: stored in clear, shown to users to tell keys apart. Only sha256(whole key) is
 * stored, so a database leak does not leak usable keys.
 */
export const API_KEY_PATTERN = /^(pol_[a-z0-9]{8})_([A-Za-z0-9]{32})$/;

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER36 = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomChars(alphabet: string, length: number): string {
  // Rejection sampling keeps every character uniformly likely (no modulo bias).
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

export function generateApiKey(): { key: string; prefix: string; sha256: Buffer } {
  const prefix = `pol_${randomChars(LOWER36, 8)}`;
  const key = `${prefix}_${randomChars(BASE62, 32)}`;
  return { key, prefix, sha256: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The prefix of a well-formed key, or undefined: malformed keys never reach the database. */
export function apiKeyPrefix(key: string): string | undefined {
  return API_KEY_PATTERN.exec(key)?.[1];
}

export const API_KEY_SCOPES = ['events:write', 'usage:read', 'meters:write', 'billing:read', 'billing:write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
