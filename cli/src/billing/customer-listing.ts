import type { Customer, Organization } from '@polaris/postgres';
import { formatTable } from '../format';

// What the `customer` commands print. Fields are picked by name, never spread from a row, so a
// column added to a query later cannot reach the terminal (or a script reading --json) unnoticed.

export function customerJson(c: Customer) {
  return {
    id: c.id,
    orgId: c.organizationId,
    externalId: c.externalId,
    name: c.name,
    email: c.email,
    currency: c.currency,
    timeZone: c.timeZone,
    subjects: [...c.subjects],
    status: c.status,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export function customerText(organization: Pick<Organization, 'slug'>, c: Customer): string {
  return [
    `customer ${c.externalId} of ${organization.slug}: ${c.name} (${c.status})`,
    `  id:        ${c.id}`,
    ...(c.email ? [`  email:     ${c.email}`] : []),
    `  currency:  ${c.currency}`,
    `  time zone: ${c.timeZone}`,
    `  subjects:  ${c.subjects.length === 0 ? 'none' : c.subjects.join(', ')}`,
  ].join('\n');
}

export function customersText(organization: Pick<Organization, 'id' | 'slug'>, all: readonly Customer[]): string {
  if (all.length === 0) return `no customers for ${organization.slug} (${organization.id}); create one with \`polaris customer create <external-id> --org ${organization.slug} …\``;
  const rows = all.map((c) => [c.externalId, c.name, c.status, c.currency, c.timeZone, String(c.subjects.length)]);
  return formatTable(['EXTERNAL ID', 'NAME', 'STATUS', 'CURRENCY', 'TIME ZONE', 'SUBJECTS'], rows);
}
