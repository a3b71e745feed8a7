import type { UsageThreshold, UsageThresholdFiring } from '@polaris/proto';

// How the threshold commands print, for a terminal.

const limitOf = (t: { kind: string; quantity?: string; percent: string }) => (t.kind === 'percent' ? `${t.percent}% of included` : (t.quantity ?? ''));

export function thresholdsText(thresholds: readonly UsageThreshold[]): string {
  if (thresholds.length === 0) return 'no usage thresholds';
  return thresholds
    .map((t) => `${t.id}  ${t.customerExternalId}  ${t.meterSlug}  ${limitOf(t)}  ${t.status}${t.archivedAt ? ` (archived ${t.archivedAt.toISOString()})` : ''}`)
    .join('\n');
}

export function firingsText(firings: readonly UsageThresholdFiring[]): string {
  if (firings.length === 0) return 'no firings';
  return firings
    .map(
      (f) =>
        `${f.firedAt?.toISOString() ?? ''}  ${f.thresholdId}  ${f.customerExternalId}  ${f.meterSlug}  ` +
        `observed ${f.observedQuantity} ≥ ${f.limitQuantity}${f.kind === 'percent' ? ` (${f.percent}%)` : ''}  ` +
        `period ${f.periodStart?.toISOString() ?? ''} – ${f.periodEnd?.toISOString() ?? ''}`,
    )
    .join('\n');
}
