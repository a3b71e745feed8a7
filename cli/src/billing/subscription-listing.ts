import { currentPeriod, type Organization, type Subscription, type SubscriptionPhase } from '@polaris/postgres';
import { formatTable } from '../format';

// What the `subscription` commands print. Fields are picked by name, never spread from a row.

const iso = (at: Date): string => at.toISOString();
const planOf = (p: SubscriptionPhase): string => `${p.planKey} v${p.planVersion}`;

/** The phase billing the period holding `now` (the one holding its start). */
function phaseAt(s: Subscription, now: Date): SubscriptionPhase | undefined {
  const { start } = currentPeriod(s, now);
  return s.phases.filter((p) => p.startsAt <= start).at(-1) ?? s.phases[0];
}

export function subscriptionJson(s: Subscription, now: Date = new Date()) {
  const period = currentPeriod(s, now);
  return {
    id: s.id,
    orgId: s.organizationId,
    customerId: s.customerId,
    customerExternalId: s.customerExternalId,
    status: s.status,
    billingAnchor: s.billingAnchor,
    startAt: iso(s.startAt),
    timeZone: s.timeZone,
    phases: s.phases.map((p) => ({ planVersionId: p.planVersionId, planKey: p.planKey, planVersion: p.planVersion, startsAt: iso(p.startsAt) })),
    currentPeriod: { start: iso(period.start), end: iso(period.end) },
    cancelAt: s.cancelAt ? iso(s.cancelAt) : null,
    billedThrough: iso(s.billedThrough),
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

export function subscriptionText(organization: Pick<Organization, 'slug'>, s: Subscription, now: Date = new Date()): string {
  const period = currentPeriod(s, now);
  return [
    `subscription ${s.id} of ${organization.slug}: customer ${s.customerExternalId} (${s.status}${s.cancelAt ? `, cancels at ${iso(s.cancelAt)}` : ''})`,
    `  periods:        monthly, ${s.billingAnchor} anchor, in ${s.timeZone}, from ${iso(s.startAt)}`,
    `  current period: ${iso(period.start)} .. ${iso(period.end)}`,
    `  billed through: ${iso(s.billedThrough)}`,
    '  phases:',
    ...s.phases.map((p) => `    from ${iso(p.startsAt)}  ${planOf(p)}`),
  ].join('\n');
}

export function subscriptionsText(organization: Pick<Organization, 'id' | 'slug'>, all: readonly Subscription[], now: Date = new Date()): string {
  if (all.length === 0) return `no subscriptions for ${organization.slug} (${organization.id})`;
  const rows = all.map((s) => {
    const period = currentPeriod(s, now);
    const phase = phaseAt(s, now);
    return [s.id, s.customerExternalId, s.status, phase ? planOf(phase) : '', `${iso(period.start)} .. ${iso(period.end)}`, s.cancelAt ? iso(s.cancelAt) : '-'];
  });
  return formatTable(['ID', 'CUSTOMER', 'STATUS', 'PLAN', 'CURRENT PERIOD', 'CANCELS AT'], rows);
}
