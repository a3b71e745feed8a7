/**
 * Which backfill run answers for which range of event time, for one meter version: queries read
 * the live rows (`backfill_run = 0`) plus, within each segment, the rows of that segment's run
 * only. Ranges are half-open [fromMs, toMs) in UTC milliseconds, day-aligned; toMs null = no end.
 * A run that died is never named here, so its rows are never read.
 */
export interface BackfillSegment {
  /** The run id (`backfill_run` in the rollups), decimal text. */
  run: string;
  fromMs: number;
  toMs: number | null;
}

const end = (toMs: number | null): number => toMs ?? Number.POSITIVE_INFINITY;

/**
 * The segments once `completed` has finished: it answers for its whole range, and the older
 * segments keep only what lies outside it (cut, not dropped, so no range is left without a run).
 * Segments never overlap, so every instant is read from one run at most: running a backfill
 * twice gives the same totals. Sorted by fromMs.
 */
export function replaceSegments(existing: readonly BackfillSegment[], completed: BackfillSegment): BackfillSegment[] {
  const kept: BackfillSegment[] = [];
  for (const segment of existing) {
    if (segment.fromMs < completed.fromMs) {
      kept.push({ ...segment, toMs: end(segment.toMs) <= completed.fromMs ? segment.toMs : completed.fromMs });
    }
    if (completed.toMs !== null && end(segment.toMs) > completed.toMs) {
      kept.push({ ...segment, fromMs: Math.max(segment.fromMs, completed.toMs) });
    }
  }
  return [...kept, completed].sort((a, b) => a.fromMs - b.fromMs);
}
