import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

// The rating queue's contract (docs/billing.md, "Rating"): its name, its jobs, their payloads and
// their ids. Payload fields are only ever added, optional, so jobs queued by an older replica
// still run on a newer one during a rolling deploy.

export const RATING_QUEUE = 'rating';

export const RATING_JOBS = {
  /** Repeated by the job scheduler of the same name: finds due periods and drafts, queues the two below. */
  scan: 'rating-scan',
  /** Opens one period of one subscription and computes its draft. */
  ratePeriod: 'rate-period',
  /** Recomputes a draft past its grace one last time and finalizes it. */
  finalize: 'finalize',
} as const;
export type RatingJobName = (typeof RATING_JOBS)[keyof typeof RATING_JOBS];

export const ratePeriodPayload = z.object({
  organizationId: z.guid(),
  subscriptionId: z.guid(),
  /** The period's start, ms since the epoch. */
  periodStartMs: z.number().int(),
});
export type RatePeriodPayload = z.infer<typeof ratePeriodPayload>;

export const finalizePayload = z.object({ organizationId: z.guid(), invoiceId: z.guid() });
export type FinalizePayload = z.infer<typeof finalizePayload>;

/**
 * Deterministic job ids: a scan repeated by any number of replicas queues a period (or a
 * finalization) once, since BullMQ ignores an add whose id it already holds. The parts are
 * joined with '.', not ':': BullMQ 6 refuses a custom id with a ':' unless it has exactly three
 * parts (a leftover of its old repeatable-job ids that its own code marks for removal), so
 * `finalize:<invoice>` would be refused and `rate:<sub>:<ms>` would only pass by that accident.
 */
export const ratePeriodJobId = (p: RatePeriodPayload): string => `rate.${p.subscriptionId}.${p.periodStartMs}`;
export const finalizeJobId = (p: FinalizePayload): string => `finalize.${p.invoiceId}`;

export interface RatingJobSettings {
  /** RATING_JOB_ATTEMPTS */
  attempts: number;
  /** The first retry's delay; each next one doubles it. */
  backoffMs: number;
}

/** How long finished jobs stay visible (bull-board): completed ones a day; failed ones until someone removes them. */
const KEEP_COMPLETED = { age: 24 * 3600, count: 50_000 };

/**
 * Options of the rate-period and finalize jobs: retried with exponential backoff; once their
 * attempts are exhausted they stay in the failed set (never removed automatically), where an
 * operator sees them, and their draft keeps its rating_error.
 */
export function workJobOptions(settings: RatingJobSettings): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: false,
  };
}

/** A scan that fails is simply the next one's work: failed scans are kept a week, not forever. */
export const SCAN_JOB_OPTIONS = { removeOnComplete: { age: 3600, count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } } as const;

/**
 * `bull-<database>`: the default key prefix of the rating queue, one per PostgreSQL database the
 * worker bills from, so systems sharing a Redis (the demo, a test's private copy) never take each
 * other's jobs.
 */
export function queuePrefixFor(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  return name ? `bull-${name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 59)}` : 'bull';
}
