import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key';

describe('api keys', () => {
  it('generates well-formed, distinct keys whose hash is sha256 of the whole key', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(API_KEY_PATTERN);
    expect(a.key.startsWith(`${a.prefix}_`)).toBe(true);
    expect(a.key).not.toBe(b.key);
    expect(a.sha256.equals(hashApiKey(a.key))).toBe(true);
    expect(a.sha256).toHaveLength(32);
  });

  it('extracts the prefix only from well-formed keys', () => {
    const { key, prefix } = generateApiKey();
    expect(apiKeyPrefix(key)).toBe(prefix);
    expect(apiKeyPrefix(`${key}x`)).toBeUndefined();
    expect(apiKeyPrefix('Bearer nonsense')).toBeUndefined();
  });
});
