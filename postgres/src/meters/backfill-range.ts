import { PolarisError } from '@polaris/shared/errors';

export const DAY_MS = 86_400_000;

/** A backfill's range of event time, whole UTC days, half-open; null = unbounded on that side. */
export interface BackfillRange {
  fromMs: number | null;
  toMs: number | null;
}

function wholeUtcDay(at: Date | undefined, field: string): number | null {
  if (at === undefined) return null;
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new PolarisError('invalid_argument', 'invalid_backfill_range', `${field} is not a valid time`, field);
  if (ms % DAY_MS !== 0) {
    throw new PolarisError(
      'invalid_argument',
      'invalid_backfill_range',
      `${field} must be a whole UTC day (midnight, e.g. ${new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString()}), not ${at.toISOString()}`,
      field,
    );
  }
  if (ms < 0) throw new PolarisError('invalid_argument', 'invalid_backfill_range', `${field} must not be before 1970-01-01`, field);
  return ms;
}

/**
 * Checks a backfill range: whole UTC days (segments are day-aligned, docs/meters.md), from before
 * to. `fields` name the inputs in errors (`from`/`to` of StartBackfill, `backfill_from` of
 * CreateMeter).
 */
export function backfillRange(from: Date | undefined, to: Date | undefined, fields = { from: 'from', to: 'to' }): BackfillRange {
  const fromMs = wholeUtcDay(from, fields.from);
  const toMs = wholeUtcDay(to, fields.to);
  if (fromMs !== null && toMs !== null && fromMs >= toMs) {
    throw new PolarisError('invalid_argument', 'invalid_backfill_range', `${fields.from} must be before ${fields.to}`, fields.to);
  }
  return { fromMs, toMs };
}
