import type { Queryable } from '../pool';
import { parseRows } from '../rows';
import {
  backfillRunSchema,
  meterVersionSchema,
  RUN_COLUMNS,
  RUNS_JOINED,
  VERSION_COLUMNS,
  type BackfillRun,
  type Meter,
  type MeterRow,
  type MeterVersion,
} from './meter-records';

/**
 * Completes meter rows into what the API shows (current and pending version, latest backfill):
 * three queries for a whole page, not three per meter. Every query is bound to the organization.
 */
export async function meterViews(db: Queryable, organizationId: string, rows: readonly MeterRow[]): Promise<Meter[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((m) => m.id);
  const newest = async (query: string, readyOnly: boolean): Promise<Map<string, MeterVersion>> => {
    const { rows: found } = await db.query(
      `SELECT DISTINCT ON (v.meter_id) ${VERSION_COLUMNS} FROM meter_versions v
        WHERE v.organization_id = $1 AND v.meter_id = ANY($2::uuid[]) ${readyOnly ? "AND v.state = 'ready'" : ''}
        ORDER BY v.meter_id, v.version DESC`,
      [organizationId, ids],
    );
    return new Map(parseRows(query, meterVersionSchema, found).map((v) => [v.meterId, v]));
  };
  const newestReady = await newest('meters.newestReadyVersions', true);
  const newestAny = await newest('meters.newestVersions', false);
  const { rows: runRows } = await db.query(
    `SELECT DISTINCT ON (v.meter_id) v.meter_id AS "meterId", ${RUN_COLUMNS} FROM ${RUNS_JOINED}
      WHERE r.organization_id = $1 AND v.meter_id = ANY($2::uuid[])
      ORDER BY v.meter_id, r.id DESC`,
    [organizationId, ids],
  );
  const latestRuns = new Map<string, BackfillRun>();
  const withMeterId = backfillRunSchema.extend({ meterId: meterVersionSchema.shape.meterId });
  for (const { meterId, ...run } of parseRows('meters.latestBackfills', withMeterId, runRows)) latestRuns.set(meterId, run);

  return rows.map((meter) => {
    const newestVersion = newestAny.get(meter.id);
    // Every meter is created with its first version in the same transaction.
    if (!newestVersion) throw new Error(`meter ${meter.id} has no version`);
    const currentVersion = newestReady.get(meter.id) ?? newestVersion;
    const pending = newestVersion.state === 'backfilling' && newestVersion.id !== currentVersion.id;
    const latestBackfill = latestRuns.get(meter.id);
    return { ...meter, currentVersion, ...(pending ? { pendingVersion: newestVersion } : {}), ...(latestBackfill ? { latestBackfill } : {}) };
  });
}
