import { randomUUID } from 'node:crypto';
import {
  billingCycle, invalidInvoiceTransition, invoiceBusy, invoices, scheduleOf, type ActiveSubscription, type InvoiceComputation, type InvoiceSummary, type Pool,
} from '@polaris/postgres';
import { periodContaining, truncateToMinute, type BillingPeriod } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import type { Logger } from '@polaris/shared/service';
import { computeInvoice, type RatingSources } from './compute-invoice';
import type { UsageReader } from './usage-reader';

// What the rating-worker does to invoices, for the BullMQ jobs and the Invoices gRPC service
// alike: open a period, (re)compute a draft under a claim, finalize it, estimate the period so far.

export interface RaterSettings {
  /** How long a claim lasts: well over one computation, whose usage reads have their own deadline. */
  claimTtlMs: number;
  /** RATING_SETTLE_MS: how long after a period's end it is opened. */
  settleMs: number;
  /** INVOICE_GRACE_MS: how long after a period's end its draft is finalized. */
  graceMs: number;
  /** LATE_USAGE_LOOKBACK_DAYS, in ms. */
  lateLookbackMs: number;
}

/**
 * Who is asking. A job finds an invoice that is no longer a draft, or that someone else is
 * rating, and stops without error (someone else did or does the work); a request is answered
 * with why not.
 */
export type Mode = 'job' | 'request';

export interface InvoiceRef {
  organizationId: string;
  invoiceId: string;
  /** Recorded in the history: api-key:<id>, operator, rating-worker, scheduler. */
  actor: string;
}

export interface RatingObserver {
  computed?(): void;
  failed?(code: string): void;
}

/** The current period so far, rated like an invoice and never stored. */
export interface Estimate {
  subscription: ActiveSubscription['subscription'];
  planVersionId: string;
  period: BillingPeriod;
  currency: string;
  computation: InvoiceComputation;
}

/** A rating failure as the invoice's rating_error shows it: codes and messages only, never internals. */
function describe(err: unknown): { code: string; text: string } {
  if (err instanceof PolarisError && err.kind !== 'internal') return { code: err.code, text: `${err.code}: ${err.message}` };
  if (err instanceof PolarisError) return { code: err.code, text: `${err.code}: rating failed (the rating-worker log has the cause)` };
  return { code: 'internal', text: 'internal: rating failed (the rating-worker log has the cause)' };
}

/** Errors that tell a job the invoice is no longer its business. */
const ENDED_FOR_JOB = new Set(['invalid_invoice_transition', 'invoice_claim_lost']);

export class InvoiceRater {
  private readonly sources: RatingSources;

  constructor(
    private readonly deps: { pool: Pool; usage: UsageReader; instanceId: string; settings: RaterSettings; logger: Logger; observer?: RatingObserver },
  ) {
    this.sources = { pool: deps.pool, usage: deps.usage, lateLookbackMs: deps.settings.lateLookbackMs };
  }

  /**
   * A rate-period job: opens the period (its draft and the subscription's move on) and computes
   * the draft. 'not_due' when there was nothing to open; 'skipped' when another worker rates it.
   */
  async ratePeriod(input: { organizationId: string; subscriptionId: string; periodStart: Date }): Promise<'computed' | 'skipped' | 'not_due'> {
    const { settleMs, graceMs } = this.deps.settings;
    const opened = await billingCycle.openPeriod(this.deps.pool, { ...input, settleMs, graceMs, actor: 'scheduler' });
    if (!opened) return 'not_due';
    const computed = await this.recompute({ organizationId: input.organizationId, invoiceId: opened.invoiceId, actor: 'rating-worker' }, 'job');
    return computed ? 'computed' : 'skipped';
  }

  /** Rates a draft again from the stored usage and writes it; undefined when a job has nothing to do. */
  async recompute(ref: InvoiceRef, mode: Mode): Promise<InvoiceSummary | undefined> {
    return this.underClaim(ref, mode, 'recomputed', async (invoice, claimer) => {
      // As of now: the stored draft carries its first computation's usageAsOf, which must not stick.
      const { computation } = await computeInvoice(this.sources, { ...invoice, usageAsOf: new Date() });
      const written = await invoices.writeComputation(this.deps.pool, { ...ref, claimer, computation });
      this.deps.observer?.computed?.();
      return written;
    });
  }

  /**
   * Recomputes a draft one last time and finalizes it with that computation. A finalize job that
   * finds the draft claimed fails (and retries): unlike a rate-period job, nobody else would
   * finalize it.
   */
  async finalize(ref: InvoiceRef, mode: Mode): Promise<InvoiceSummary | undefined> {
    return this.underClaim(ref, mode, 'finalized', async (invoice, claimer) => {
      const { computation, basis } = await computeInvoice(this.sources, { ...invoice, usageAsOf: new Date() });
      const finalized = await invoices.finalize(this.deps.pool, { ...ref, claimer, computation, basis });
      this.deps.observer?.computed?.();
      return finalized;
    });
  }

  /**
   * The customer's current period so far ([period start, now floored to the minute)), rated with
   * the same code and rollups as its invoice will be, late-usage adjustments included.
   */
  async estimate(ref: { organizationId: string; customerId?: string; externalId?: string }, now: Date = new Date()): Promise<Estimate> {
    const active = await billingCycle.activeSubscription(this.deps.pool, ref);
    const { subscription } = active;
    const asOf = truncateToMinute(now);
    if (asOf.getTime() < subscription.startAt.getTime()) {
      throw new PolarisError('failed_precondition', 'subscription_not_started', `the subscription starts at ${subscription.startAt.toISOString()}: there is no period yet`);
    }
    const period = periodContaining(scheduleOf(subscription), asOf);
    if (subscription.cancelAt !== undefined && subscription.cancelAt.getTime() <= period.start.getTime()) {
      throw new PolarisError('failed_precondition', 'no_active_subscription', `the subscription ended at ${subscription.cancelAt.toISOString()}`);
    }
    const phase = active.phases.filter((p) => p.startsAt.getTime() <= period.start.getTime()).at(-1) ?? active.phases[0];
    if (!phase) throw new Error(`subscription ${subscription.id} has no phase`);
    const computed = await computeInvoice(this.sources, {
      organizationId: ref.organizationId,
      subscriptionId: subscription.id,
      planVersionId: phase.planVersionId,
      period,
      usageTo: asOf,
      usageAsOf: asOf,
    });
    return { subscription, planVersionId: phase.planVersionId, period, currency: computed.currency, computation: computed.computation };
  }

  /**
   * Runs `work` holding the draft's claim (a fresh claimer id per run). A failure is recorded on
   * the draft (rating_error) and releases the claim, so a retry on any worker takes it at once.
   */
  private async underClaim(
    ref: InvoiceRef,
    mode: Mode,
    to: 'recomputed' | 'finalized',
    work: (invoice: InvoiceSummary & { period: BillingPeriod }, claimer: string) => Promise<InvoiceSummary>,
  ): Promise<InvoiceSummary | undefined> {
    const { pool, settings, instanceId, logger } = this.deps;
    const claimer = `${instanceId}/${randomUUID().slice(0, 8)}`;
    const outcome = await invoices.claim(pool, { organizationId: ref.organizationId, invoiceId: ref.invoiceId, claimer, ttlMs: settings.claimTtlMs });
    if ('refused' in outcome) {
      if (outcome.refused === 'not_draft') {
        if (mode === 'job') return undefined;
        throw invalidInvoiceTransition(ref.invoiceId, outcome.invoice.status, to);
      }
      if (mode === 'job' && to === 'recomputed') return undefined;
      throw invoiceBusy(ref.invoiceId, outcome.claimedBy);
    }
    const invoice = outcome.claimed;
    try {
      return await work({ ...invoice, period: { start: invoice.periodStart, end: invoice.periodEnd } }, claimer);
    } catch (err) {
      const { code, text } = describe(err);
      if (mode === 'job' && ENDED_FOR_JOB.has(code)) return undefined;
      this.deps.observer?.failed?.(code);
      if (!(err instanceof PolarisError) || err.kind === 'internal') logger.error({ err, invoiceId: ref.invoiceId }, 'rating failed');
      await invoices
        .recordRatingFailure(pool, { organizationId: ref.organizationId, invoiceId: ref.invoiceId, claimer, actor: ref.actor, error: text })
        .catch((recordErr: unknown) => logger.error({ err: recordErr, invoiceId: ref.invoiceId }, 'could not record a rating failure'));
      throw err;
    }
  }
}
