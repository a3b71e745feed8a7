import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, apiKeyPrefix, generateApiKey, hashApiKey, parseScopes } from './api-key';

describe('generateApiKey', () => {
  it('has the documented shape: pol_ + 8 [a-z0-9] prefix + _ + 32 base62', () => {
    for (let i = 0; i < 200; i++) {
      const { key, prefix } = generateApiKey();
      expect(key).toMatch(/^pol_[a-z0-9]{8}_[A-Za-z0-9]{32}$/);
      expect(key).toMatch(API_KEY_PATTERN);
      expect(key.startsWith(`${prefix}_`)).toBe(true);
      expect(prefix).toHaveLength(12);
      expect(apiKeyPrefix(key)).toBe(prefix);
    }
  });

  it('stores sha256 of the whole key string, the way the rating-worker checks it', () => {
    const { key, sha256 } = generateApiKey();
    const expected = createHash('sha256').update(key).digest();
    expect(sha256.equals(expected)).toBe(true);
    expect(hashApiKey(key).equals(expected)).toBe(true);
    expect(sha256).toHaveLength(32);
  });

  it('does not repeat itself', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().key));
    expect(keys.size).toBe(1000);
  });
});

describe('parseScopes', () => {
  it('accepts known scopes, trims and de-duplicates', () => {
    expect(parseScopes('events:write, usage:read,events:write')).toEqual(['events:write', 'usage:read']);
  });

  it('rejects unknown and empty lists', () => {
    expect(() => parseScopes('events:write,admin')).toThrow(/unknown scope\(s\) admin/);
    expect(() => parseScopes(' , ')).toThrow(/at least one scope/);
  });
});
