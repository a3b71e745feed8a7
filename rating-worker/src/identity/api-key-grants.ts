import { API_KEY_SCOPES, type ApiKeyScope } from '@polaris/shared/auth';
import { PolarisError } from '@polaris/shared/errors';

// What a caller may do with an organization's keys (polaris.v1.ApiKeys). The caller's scopes come
// from the credential the gateway validated, never from the end user's input.

const KNOWN: readonly string[] = API_KEY_SCOPES;

/** Creating or revoking a key is an administrator's act: a key that may read usage must not mint itself more rights. */
export function requireAdmin(callerScopes: readonly string[]): void {
  if (!callerScopes.includes('admin')) {
    throw new PolarisError('permission_denied', 'missing_scope', 'managing API keys needs the "admin" scope');
  }
}

/**
 * The scopes of a new key: each known (else invalid_argument naming `scopes[i]`), at least one,
 * duplicates dropped, and none the caller lacks (else permission_denied naming `scopes[i]`):
 * a key can never be used to make a stronger one.
 */
export function grantableScopes(requested: readonly string[], callerScopes: readonly string[]): ApiKeyScope[] {
  if (requested.length === 0) {
    throw new PolarisError('invalid_argument', 'missing_scopes', `a key needs at least one scope: ${API_KEY_SCOPES.join(', ')}`, 'scopes');
  }
  requested.forEach((scope, i) => {
    if (!KNOWN.includes(scope)) {
      throw new PolarisError('invalid_argument', 'unknown_scope', `unknown scope ${JSON.stringify(scope)}; known: ${API_KEY_SCOPES.join(', ')}`, `scopes[${i}]`);
    }
  });
  requested.forEach((scope, i) => {
    if (!callerScopes.includes(scope)) {
      throw new PolarisError('permission_denied', 'scope_not_held', `the new key cannot have the "${scope}" scope: your credential does not have it`, `scopes[${i}]`);
    }
  });
  return [...new Set(requested)] as ApiKeyScope[];
}
