import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, apiKeyPrefix, generateApiKey, hashApiKey } from './api-key';

describe('api keys', () => {
  it('has the documented shape: pol_ + 8 [a-z0-9] prefix + _ + 32 base62', () => {
    for (let i = 0; i < 200; i++) {
      const { key, prefix } = generateApiKey();
      expect(key).toMatch(/^pol_[a-z0-9]{8}_[A-Za-z0-9]{32}$/);
      expect(prefix).toHaveLength(12);
      expect(apiKeyPrefix(key)).toBe(prefix);
    }
  });

  it('does not repeat itself', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().key));
    expect(keys.size).toBe(1000);
  });

  it('generates well-formed, distinct keys whose hash is sha256 of the whole key', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.key).toMatch(API_KEY_PATTERN);
    expect(a.key.startsWith(`${a.prefix}_`)).toBe(true);
    expect(a.key).not.toBe(b.key);
    // hashApiKey itself is pinned by the known vector below.
    expect(a.sha256.equals(hashApiKey(a.key))).toBe(true);
  });

  it('hashes the whole key with sha256 (a known vector, computed outside this code)', () => {
    // python3 -c "import hashlib; print(hashlib.sha256(b'pol_abcd1234_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef').hexdigest())"
    expect(hashApiKey('pol_abcd1234_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef').toString('hex')).toBe('36016118df60005279a7fdd74d2398ef8eef9955ee77b855d0f371c47fbbf8d9');
  });

  it('extracts the prefix only from well-formed keys', () => {
    const { key, prefix } = generateApiKey();
    expect(apiKeyPrefix(key)).toBe(prefix);
    expect(apiKeyPrefix(`${key}x`)).toBeUndefined();
    expect(apiKeyPrefix('Bearer nonsense')).toBeUndefined();
  });
});
