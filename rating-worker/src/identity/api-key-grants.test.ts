import { describe, expect, it } from 'vitest';
import { grantableScopes, requireAdmin } from './api-key-grants';

describe('API key grants', () => {
  it('needs admin to manage keys', () => {
    expect(() => requireAdmin(['usage:read', 'billing:write'])).toThrow(expect.objectContaining({ kind: 'permission_denied', code: 'missing_scope' }));
    expect(() => requireAdmin(['admin'])).not.toThrow();
  });

  it('names the first unknown scope by its index, before any other check', () => {
    expect(() => grantableScopes(['usage:read', 'usage:write'], ['admin', 'usage:read'])).toThrow(
      expect.objectContaining({ kind: 'invalid_argument', code: 'unknown_scope', field: 'scopes[1]' }),
    );
  });

  it('refuses a scope the caller lacks, naming it, and an empty list', () => {
    expect(() => grantableScopes(['usage:read', 'billing:write'], ['admin', 'usage:read'])).toThrow(
      expect.objectContaining({ kind: 'permission_denied', code: 'scope_not_held', field: 'scopes[1]' }),
    );
    expect(() => grantableScopes([], ['admin'])).toThrow(expect.objectContaining({ kind: 'invalid_argument', field: 'scopes' }));
  });

  it('grants what the caller holds, once each', () => {
    expect(grantableScopes(['usage:read', 'admin', 'usage:read'], ['admin', 'usage:read'])).toEqual(['usage:read', 'admin']);
  });
});
