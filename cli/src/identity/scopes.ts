import { API_KEY_SCOPES, type ApiKeyScope } from '@polaris/shared/auth';
import { CliError } from '../errors';

/** "events:write, usage:read" → ['events:write', 'usage:read'], rejecting unknown or empty lists. */
export function parseScopes(text: string): ApiKeyScope[] {
  const scopes = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  const known: readonly string[] = API_KEY_SCOPES;
  const unknown = scopes.filter((s) => !known.includes(s));
  if (unknown.length > 0) throw new CliError(`unknown scope(s) ${unknown.join(', ')}; known: ${API_KEY_SCOPES.join(', ')}`);
  if (scopes.length === 0) throw new CliError(`at least one scope is needed: ${API_KEY_SCOPES.join(', ')}`);
  return scopes as ApiKeyScope[];
}
