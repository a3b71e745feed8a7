import { limitFor, periodOf, pricesFor, thresholdFirings, withOrg, type Pool, type WatchedThreshold } from '@polaris/postgres';
import { compareDecimal, truncateToMinute, type BillingPeriod } from '@polaris/shared/billing';
import type { Logger } from '@polaris/shared/service';
import type { UsageReader } from '../rating/usage-reader';
import type { EvaluationOutcome, ThresholdMetrics } from './threshold-metrics';

// One evaluation of every active usage threshold (README "Usage thresholds"; docs/ARCHITECTURE.md,
// "Exactly-once threshold firings"). Usage is read through the sink-worker's Usage.QueryMeter with
// the rating's UsageReader, so reads of one (org, meter, period) are coalesced into one grouped
// query. A threshold fires when its customer's usage in the period is at or above its limit; the
// firing row and its event are written in one transaction, unique per (threshold, period start).
// A read that fails (the Usage API down, a meter still backfilling) decides nothing: no firing,
// and nothing is ever un-fired.

/** Organizations evaluated at once: their reads batch per (org, meter, period) anyway. */
const ORG_CONCURRENCY = 8;
const MINUTE_MS = 60_000;

export interface EvaluatorDeps {
  pool: Pool;
  usage: UsageReader;
  logger: Logger;
  metrics?: ThresholdMetrics;
  /**
   * How long after a period's end it is still watched (RATING_SETTLE_MS): usage stored in its last
   * minutes is read after the boundary, and a crossing there still fires for that period.
   */
  settleMs: number;
}

export interface EvaluationSummary {
  organizations: number;
  checked: number;
  fired: number;
  readFailures: number;
}

interface Check {
  threshold: WatchedThreshold;
  period: BillingPeriod;
  limit: string;
}

/** The periods a threshold is watched in at `now`: the current one, and the previous one while it settles. */
export function periodsToWatch(threshold: WatchedThreshold, now: Date, settleMs: number): BillingPeriod[] {
  const current = periodOf(now, threshold.customerTimeZone, threshold.subscription);
  const periods = [current];
  if (now.getTime() - current.start.getTime() < settleMs) {
    const previous = periodOf(new Date(current.start.getTime() - 1), threshold.customerTimeZone, threshold.subscription);
    if (previous.start.getTime() < current.start.getTime()) periods.push(previous);
  }
  const cancelAt = threshold.subscription?.cancelAt?.getTime();
  // A subscription canceled at a period's end bills no period after it.
  return periods.filter((p) => cancelAt === undefined || p.start.getTime() < cancelAt);
}

/** What to read: each (threshold, period) not fired yet whose limit is known. */
export function checksOf(watched: readonly WatchedThreshold[], now: Date, settleMs: number, observe: (o: EvaluationOutcome) => void): Check[] {
  const checks: Check[] = [];
  for (const threshold of watched) {
    const fired = new Set(threshold.firedPeriodStarts.map((d) => d.getTime()));
    for (const period of periodsToWatch(threshold, now, settleMs)) {
      if (fired.has(period.start.getTime())) {
        observe('already_fired');
        continue;
      }
      const limit = limitFor(threshold, pricesFor(threshold.subscription, period));
      if (limit === undefined) {
        observe('no_limit');
        continue;
      }
      checks.push({ threshold, period, limit });
    }
  }
  return checks;
}

async function evaluateOrganization(deps: EvaluatorDeps, organizationId: string, now: Date, summary: EvaluationSummary): Promise<void> {
  const observe = (outcome: EvaluationOutcome) => deps.metrics?.evaluated(outcome);
  const watched = await withOrg(deps.pool, organizationId, (tx) => thresholdFirings.watched(tx, organizationId));
  const checks = checksOf(watched, now, deps.settleMs, observe);
  // The read reaches into the current minute: rollups are per minute, and usage of a period only
  // grows for SUM and COUNT, so a partial minute can only make a crossing seen sooner.
  const readTo = truncateToMinute(now).getTime() + MINUTE_MS;
  await Promise.all(
    checks.map(async ({ threshold, period, limit }) => {
      summary.checked += 1;
      let observed: string;
      try {
        const read = await deps.usage.read({
          organizationId,
          meterSlug: threshold.meterSlug,
          subjects: threshold.subjects,
          from: period.start,
          to: new Date(Math.min(period.end.getTime(), readTo)),
        });
        observed = read.quantity;
      } catch (err) {
        summary.readFailures += 1;
        observe('read_failed');
        deps.logger.warn({ err, thresholdId: threshold.id, organizationId, meter: threshold.meterSlug }, 'usage threshold not evaluated: its usage could not be read');
        return;
      }
      if (compareDecimal(observed, limit) < 0) {
        observe('below');
        return;
      }
      const fired = await withOrg(deps.pool, organizationId, (tx) =>
        thresholdFirings.fire(tx, { threshold, period, limit, observed, observedAt: now }),
      );
      observe(fired ? 'fired' : 'already_fired');
      if (fired) {
        summary.fired += 1;
        deps.logger.info({ thresholdId: threshold.id, organizationId, meter: threshold.meterSlug, limit, observed, periodStart: period.start }, 'usage threshold crossed');
      }
    }),
  );
}

/** Evaluates every active threshold of every organization once. One organization's failure does not stop the others'. */
export async function evaluateThresholds(deps: EvaluatorDeps, now: Date = new Date()): Promise<EvaluationSummary> {
  const organizations = await thresholdFirings.organizationsToEvaluate(deps.pool);
  const summary: EvaluationSummary = { organizations: organizations.length, checked: 0, fired: 0, readFailures: 0 };
  const failures: unknown[] = [];
  for (let i = 0; i < organizations.length; i += ORG_CONCURRENCY) {
    await Promise.all(
      organizations.slice(i, i + ORG_CONCURRENCY).map((org) =>
        evaluateOrganization(deps, org, now, summary).catch((err: unknown) => {
          failures.push(err);
          deps.logger.warn({ err, organizationId: org }, 'usage thresholds of an organization not evaluated');
        }),
      ),
    );
  }
  // Every organization had its turn; a failure still fails the run, so it shows in the job's outcome.
  if (failures.length > 0) throw failures[0] instanceof Error ? failures[0] : new Error(String(failures[0]));
  return summary;
}
