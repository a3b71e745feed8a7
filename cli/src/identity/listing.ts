import type { Organization } from '@polaris/postgres';
import { formatTable } from '../format';
import type { ListedApiKey } from './api-keys';

// What `org list` and `api-key list` print. Each field is picked by name, never spread from a row,
// so a column added to a query later cannot reach the terminal unnoticed.

const time = (at: Date | null): string => (at ? at.toISOString() : '-');

export function apiKeysJson(keys: readonly ListedApiKey[]): string {
  return JSON.stringify(
    keys.map((k) => ({
      prefix: k.prefix,
      name: k.name,
      scopes: k.scopes,
      createdAt: k.createdAt.toISOString(),
      revokedAt: k.revokedAt?.toISOString() ?? null,
    })),
  );
}

export function apiKeysText(organization: Pick<Organization, 'id' | 'slug'>, keys: readonly ListedApiKey[]): string {
  if (keys.length === 0) return `no API keys for ${organization.slug} (${organization.id})`;
  const rows = keys.map((k) => [k.prefix, k.name, k.scopes.join(','), time(k.createdAt), time(k.revokedAt)]);
  return formatTable(['PREFIX', 'NAME', 'SCOPES', 'CREATED', 'REVOKED'], rows);
}

export function organizationsJson(organizations: readonly Organization[]): string {
  return JSON.stringify(organizations.map((o) => ({ id: o.id, slug: o.slug, name: o.name, createdAt: o.createdAt.toISOString() })));
}

export function organizationsText(organizations: readonly Organization[]): string {
  if (organizations.length === 0) return 'no organizations; create one with `polaris org create --name …`';
  return formatTable(['ID', 'SLUG', 'NAME', 'CREATED'], organizations.map((o) => [o.id, o.slug, o.name, time(o.createdAt)]));
}
