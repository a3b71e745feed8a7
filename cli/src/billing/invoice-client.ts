import { InvoicesClient } from '@polaris/proto';
import type { OperatorConfig } from '../config';
import { ratingWorkerOf, withRatingWorker, type RatingWorkerCall } from '../rating-worker-client';

// The rating-worker's polaris.v1.Invoices, as the operator CLI calls it (internal caller
// `operator`): for the actions that read usage (recompute, finalize, the estimate), which only the
// rating-worker can do, since only it reaches the Usage service.

/** Generous: a finalization reads the period's usage, and late usage of earlier periods. */
const DEADLINE_MS = 120_000;

export type InvoicesCall = RatingWorkerCall<InstanceType<typeof InvoicesClient>>;

/** Fails (a CliError naming what is missing) unless the rating-worker's settings are there: checked before any other work. */
export function requireRatingWorker(config: OperatorConfig, action: string): void {
  ratingWorkerOf(config, `invoice ${action}`);
}

/** Runs `work` with a client of the rating-worker's Invoices, closed after; `action`: the invoice command. */
export function withInvoices<T>(config: OperatorConfig, action: string, work: (call: InvoicesCall) => Promise<T>): Promise<T> {
  return withRatingWorker(config, { Client: InvoicesClient, command: `invoice ${action}`, deadlineMs: DEADLINE_MS }, work);
}
