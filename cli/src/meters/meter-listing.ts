import type { BackfillRun, Meter, MeterVersion, Organization } from '@polaris/postgres';
import type { MeterDefinition } from '@polaris/shared/meters';
import { formatTable } from '../format';

// What the `meter` commands print. Fields are picked by name, never spread from a row, so a
// column added to a query later cannot reach the terminal (or a script reading --json) unnoticed.

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const day = (ms: number | null, unbounded: string): string => (ms === null ? unbounded : new Date(ms).toISOString().slice(0, 10));

function definitionJson(d: MeterDefinition) {
  return {
    eventType: d.eventType,
    aggregation: d.aggregation,
    valuePath: d.valuePath ?? null,
    uniquePath: d.uniquePath ?? null,
    dimensions: d.dimensions.map(({ name, path }) => ({ name, path })),
  };
}

function versionJson(v: MeterVersion) {
  return {
    meterVersionId: v.id,
    version: v.version,
    state: v.state,
    catalogRevision: v.catalogRevision,
    definition: definitionJson(v.definition),
    segments: v.segments.map((s) => ({ backfillRunId: s.run, from: iso(s.fromMs), to: iso(s.toMs) })),
    createdAt: v.createdAt.toISOString(),
  };
}

export function runJson(r: BackfillRun) {
  return {
    backfillRunId: r.id,
    meterSlug: r.meterSlug,
    meterVersionId: r.meterVersionId,
    version: r.meterVersion,
    state: r.state,
    eventsDone: r.eventsDone,
    eventsTotal: r.eventsTotal,
    from: iso(r.fromMs),
    to: iso(r.toMs),
    attempts: r.attempts,
    supersededBy: r.supersededBy,
    error: r.error,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

export function meterJson(m: Meter) {
  return {
    id: m.id,
    orgId: m.organizationId,
    slug: m.slug,
    name: m.name,
    description: m.description,
    status: m.status,
    currentVersion: versionJson(m.currentVersion),
    pendingVersion: m.pendingVersion ? versionJson(m.pendingVersion) : null,
    latestBackfill: m.latestBackfill ? runJson(m.latestBackfill) : null,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

/** "SUM of $.tokens", "COUNT", "UNIQUE_COUNT of $.user_id". */
export function measures(d: MeterDefinition): string {
  const path = d.valuePath ?? d.uniquePath;
  return path ? `${d.aggregation} of ${path}` : d.aggregation;
}

export function runRange(r: Pick<BackfillRun, 'fromMs' | 'toMs'>): string {
  return r.fromMs === null && r.toMs === null ? 'whole history' : `${day(r.fromMs, 'start')} .. ${day(r.toMs, 'now')}`;
}

export function runSummary(r: BackfillRun): string {
  const counted = r.eventsTotal > 0 ? `, ${r.eventsDone}/${r.eventsTotal} events` : '';
  const why = r.error ? `: ${r.error}` : '';
  return `run ${r.id} of version ${r.meterVersion} ${r.state} (${runRange(r)}${counted})${why}`;
}

function versionLines(label: string, v: MeterVersion): string[] {
  const d = v.definition;
  const dimensions = d.dimensions.length === 0 ? 'none' : d.dimensions.map((x) => `${x.name}=${x.path}`).join(', ');
  return [
    `  ${label} version ${v.version} (${v.state}; meter_version_id ${v.id}, catalog revision ${v.catalogRevision})`,
    `    counts:     ${measures(d)} of events of type ${d.eventType}`,
    `    dimensions: ${dimensions}`,
  ];
}

export function meterText(organization: Pick<Organization, 'id' | 'slug'>, m: Meter): string {
  return [
    `meter ${m.slug} of ${organization.slug}: ${m.name} (${m.status})`,
    ...(m.description ? [`  ${m.description}`] : []),
    ...versionLines('answers from', m.currentVersion),
    ...(m.pendingVersion ? versionLines('backfilling', m.pendingVersion) : []),
    `  backfill: ${m.latestBackfill ? runSummary(m.latestBackfill) : 'none'}`,
  ].join('\n');
}

export function metersText(organization: Pick<Organization, 'id' | 'slug'>, all: readonly Meter[]): string {
  if (all.length === 0) return `no meters for ${organization.slug} (${organization.id}); create one with \`polaris meter create <slug> --org ${organization.slug} …\``;
  const rows = all.map((m) => [
    m.slug,
    m.name,
    m.status,
    `v${m.currentVersion.version} ${m.currentVersion.state}${m.pendingVersion ? `, v${m.pendingVersion.version} backfilling` : ''}`,
    m.currentVersion.definition.eventType,
    measures(m.currentVersion.definition),
  ]);
  return formatTable(['SLUG', 'NAME', 'STATUS', 'VERSION', 'EVENT TYPE', 'MEASURES'], rows);
}
