import { checkMeterDefinition, type MeterDefinition } from '@polaris/shared/meters';
import { z } from 'zod';
import type { BackfillSegment } from './backfill-segments';

// The rows of the meter tables as the repositories return them, checked with zod, and the column
// lists that produce them: every query of a kind selects the same columns, so one schema fits.

export const METER_STATUSES = ['active', 'archived'] as const;
export const VERSION_STATES = ['backfilling', 'ready', 'retired'] as const;
export const RUN_STATES = ['queued', 'running', 'completed', 'failed', 'superseded'] as const;
export type MeterStatus = (typeof METER_STATUSES)[number];
export type VersionState = (typeof VERSION_STATES)[number];
export type BackfillRunState = (typeof RUN_STATES)[number];

/** bigint and bigserial columns: node-postgres returns them as decimal text, kept as text. */
const bigintText = z.string().regex(/^\d+$/);
/** Event counts and times in ms: bigint in SQL, far inside 2^53 in practice; checked anyway. */
const safeNumber = z.union([z.string(), z.number()]).transform(Number).pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));

/** A definition read back from jsonb goes through the same check as one coming in. */
const storedDefinition = z.unknown().transform((value, ctx): MeterDefinition => {
  try {
    return checkMeterDefinition(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `stored definition is invalid: ${err instanceof Error ? err.message : String(err)}` });
    return z.NEVER;
  }
});

const segmentSchema = z.object({ run: bigintText, fromMs: safeNumber, toMs: safeNumber.nullable() });
export const segmentsSchema = z.array(segmentSchema) satisfies z.ZodType<BackfillSegment[]>;

export const meterRowSchema = z.object({
  id: z.guid(),
  organizationId: z.guid(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(METER_STATUSES),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type MeterRow = z.infer<typeof meterRowSchema>;
export const METER_COLUMNS = `m.id, m.organization_id AS "organizationId", m.slug, m.name, m.description, m.status,
  m.created_at AS "createdAt", m.updated_at AS "updatedAt"`;

export const meterVersionSchema = z.object({
  /** The meter_version_id of ClickHouse. */
  id: bigintText,
  meterId: z.guid(),
  version: z.number().int().positive(),
  definition: storedDefinition,
  /** The catalog revision that made this version (R_V in docs/meters.md). */
  catalogRevision: bigintText,
  state: z.enum(VERSION_STATES),
  segments: segmentsSchema,
  createdAt: z.date(),
});
export type MeterVersion = z.infer<typeof meterVersionSchema>;
export const VERSION_COLUMNS = `v.id, v.meter_id AS "meterId", v.version, v.definition, v.catalog_revision AS "catalogRevision",
  v.state, v.segments, v.created_at AS "createdAt"`;

export const backfillRunSchema = z.object({
  /** The `backfill_run` of the rollups. */
  id: bigintText,
  organizationId: z.guid(),
  meterSlug: z.string(),
  meterVersionId: bigintText,
  meterVersion: z.number().int().positive(),
  state: z.enum(RUN_STATES),
  /** Event time, whole UTC days; null = unbounded. */
  fromMs: safeNumber.nullable(),
  toMs: safeNumber.nullable(),
  eventsDone: safeNumber,
  eventsTotal: safeNumber,
  claimedBy: z.string().nullable(),
  claimedUntil: z.date().nullable(),
  attempts: z.number().int().positive(),
  error: z.string().nullable(),
  /** The fresh run that took over when this one's claim expired. */
  supersededBy: bigintText.nullable(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});
export type BackfillRun = z.infer<typeof backfillRunSchema>;
/** Needs `FROM meter_backfill_runs r JOIN meter_versions v … JOIN meters m …` (RUNS_JOINED). */
export const RUN_COLUMNS = `r.id, r.organization_id AS "organizationId", m.slug AS "meterSlug", r.meter_version_id AS "meterVersionId",
  v.version AS "meterVersion", r.state, r.from_ms AS "fromMs", r.to_ms AS "toMs", r.events_done AS "eventsDone",
  r.events_total AS "eventsTotal", r.claimed_by AS "claimedBy", r.claimed_until AS "claimedUntil", r.attempts, r.error,
  r.superseded_by AS "supersededBy", r.created_at AS "createdAt", r.started_at AS "startedAt", r.finished_at AS "finishedAt"`;
/** Every join repeats organization_id: a run, its version and its meter always share one tenant. */
export const RUNS_JOINED = `meter_backfill_runs r
  JOIN meter_versions v ON v.id = r.meter_version_id AND v.organization_id = r.organization_id
  JOIN meters m ON m.id = v.meter_id AND m.organization_id = v.organization_id`;

/**
 * A meter as the API shows it: the version usage answers from (the newest ready one, else the
 * newest), the newer version still backfilling if there is one, and the latest backfill run.
 */
export interface Meter extends MeterRow {
  currentVersion: MeterVersion;
  pendingVersion?: MeterVersion;
  latestBackfill?: BackfillRun;
}
