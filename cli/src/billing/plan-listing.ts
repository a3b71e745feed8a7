import type { Organization, Plan, PlanVersion } from '@polaris/postgres';
import type { Price, PriceTier } from '@polaris/shared/billing';
import { formatTable } from '../format';

// What the `plan` commands print. Fields are picked by name; --json spells prices as --prices
// takes them (the proto's field names), so a plan's JSON can be edited and given back.

function tierJson(t: PriceTier) {
  return { from: t.from, up_to: t.upTo ?? null, unit_price: t.unitPrice, flat_fee: t.flatFee };
}

export function priceJson(p: Price) {
  return {
    key: p.key,
    name: p.name,
    model: p.model,
    meter_slug: p.meterSlug ?? null,
    amount: p.amount ?? null,
    unit_price: p.unitPrice ?? null,
    tiers: p.tiers?.map(tierJson) ?? null,
    package_size: p.packageSize ?? null,
    package_price: p.packagePrice ?? null,
    free_quota: p.freeQuota,
  };
}

export function versionJson(v: PlanVersion) {
  return {
    id: v.id,
    planKey: v.planKey,
    version: v.version,
    currency: v.currency,
    status: v.status,
    prices: v.prices.map(priceJson),
    createdAt: v.createdAt.toISOString(),
    publishedAt: v.publishedAt?.toISOString() ?? null,
  };
}

export function planJson(p: Plan) {
  return {
    id: p.id,
    orgId: p.organizationId,
    key: p.key,
    name: p.name,
    description: p.description,
    status: p.status,
    versions: p.versions.map(versionJson),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

const quota = (p: Price): string => (p.freeQuota === '0' ? '' : `, first ${p.freeQuota} free`);
/** "(0, 1000] 0.01", "(1000, ∞) 0.005 + 2": the units in (from, up_to] at the unit price, plus the flat fee. */
const tierText = (t: PriceTier): string => `(${t.from}, ${t.upTo === undefined ? '∞)' : `${t.upTo}]`} ${t.unitPrice}${t.flatFee === '0' ? '' : ` + ${t.flatFee}`}`;

/** "0.002 per unit of api_calls, first 1000 free", in the version's currency. */
export function priceRule(p: Price, currency: string): string {
  switch (p.model) {
    case 'FLAT':
      return `${p.amount ?? '0'} ${currency} per period`;
    case 'PER_UNIT':
      return `${p.unitPrice ?? '0'} ${currency} per unit of ${p.meterSlug ?? '?'}${quota(p)}`;
    case 'PACKAGE':
      return `${p.packagePrice ?? '0'} ${currency} per ${p.packageSize ?? '?'} units of ${p.meterSlug ?? '?'}${quota(p)}`;
    case 'GRADUATED':
    case 'VOLUME':
      return `${p.meterSlug ?? '?'} in ${currency}: ${(p.tiers ?? []).map(tierText).join('; ')}${quota(p)}`;
  }
}

export function versionText(v: PlanVersion): string {
  const when = v.publishedAt ? `published ${v.publishedAt.toISOString()}` : 'draft';
  const head = `  version ${v.version} (${when}, ${v.currency}; id ${v.id})`;
  if (v.prices.length === 0) return `${head}\n    no prices: a free plan`;
  const table = formatTable(['KEY', 'MODEL', 'PRICE'], v.prices.map((p) => [p.key, p.model, priceRule(p, v.currency)]));
  return [head, ...table.split('\n').map((line) => `    ${line}`)].join('\n');
}

export function planText(organization: Pick<Organization, 'slug'>, p: Plan): string {
  return [`plan ${p.key} of ${organization.slug}: ${p.name} (${p.status})`, ...(p.description ? [`  ${p.description}`] : []), ...p.versions.map(versionText)].join('\n');
}

/** "v2 draft, v1 published": newest first. */
const versionsSummary = (p: Plan): string => p.versions.map((v) => `v${v.version} ${v.status}`).join(', ');

export function plansText(organization: Pick<Organization, 'id' | 'slug'>, all: readonly Plan[]): string {
  if (all.length === 0) return `no plans for ${organization.slug} (${organization.id}); create one with \`polaris plan create <key> --org ${organization.slug} …\``;
  const rows = all.map((p) => [p.key, p.name, p.status, p.versions[0]?.currency ?? '', versionsSummary(p)]);
  return formatTable(['KEY', 'NAME', 'STATUS', 'CURRENCY', 'VERSIONS'], rows);
}
