import { describe, expect, it } from 'vitest';
import { presentedApiKey } from './presented-api-key';

describe('presentedApiKey', () => {
  it('reads Authorization: Bearer or X-API-Key (trimmed), either one, or both when they agree', () => {
    expect(presentedApiKey({ authorization: 'Bearer k1' })).toBe('k1');
    expect(presentedApiKey({ authorization: 'bearer   k1 ' })).toBe('k1');
    expect(presentedApiKey({ 'x-api-key': ' k2 ' })).toBe('k2');
    expect(presentedApiKey({ authorization: 'Bearer k3', 'x-api-key': 'k3' })).toBe('k3');
  });

  it('presents no key for absent or empty headers, or another Authorization scheme', () => {
    expect(presentedApiKey({})).toBeUndefined();
    expect(presentedApiKey({ authorization: null, 'x-api-key': null })).toBeUndefined();
    expect(presentedApiKey({ 'x-api-key': '   ' })).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'k4' })).toBe('k4');
  });

  it('refuses two different keys with 401 conflicting_api_keys', () => {
    expect(() => presentedApiKey({ authorization: 'Bearer a', 'x-api-key': 'b' })).toThrow(
      expect.objectContaining({ kind: 'unauthenticated', code: 'conflicting_api_keys' }),
    );
  });
});
