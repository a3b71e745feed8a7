import { PolarisError } from '@polaris/shared/errors';
import type { InvoiceStatus } from './billing-records';

// The refusals of the invoice repositories, worded once. Fields are named as the proto names them.

const shown = (value: string): string => JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);

export const invoiceNotFound = (id: string): PolarisError =>
  new PolarisError('not_found', 'invoice_not_found', `no invoice with id ${shown(id)} in this organization`, 'invoice_id');

/** The lifecycle (docs/billing.md): draft → finalized → paid, draft → void, finalized → void. */
const ALLOWED_FROM: Record<string, readonly InvoiceStatus[]> = {
  finalized: ['draft'],
  paid: ['finalized'],
  void: ['draft', 'finalized'],
  recomputed: ['draft'],
};

/** What may move an invoice to `to` (or recompute it): the statuses it may be in. */
export const allowedFrom = (to: keyof typeof ALLOWED_FROM): readonly InvoiceStatus[] => ALLOWED_FROM[to] ?? [];

export function invalidTransition(id: string, from: InvoiceStatus, to: 'finalized' | 'paid' | 'void' | 'recomputed'): PolarisError {
  const allowed = allowedFrom(to).join(' or ');
  const what = to === 'recomputed' ? 'be recomputed' : `become ${to}`;
  return new PolarisError('failed_precondition', 'invalid_invoice_transition', `invoice ${id} is ${from}: only a ${allowed} invoice can ${what}`, 'invoice_id');
}

/** Another worker (or request) holds the claim: it is computing this draft right now. */
export const invoiceBusy = (id: string, holder: string): PolarisError =>
  new PolarisError('unavailable', 'invoice_busy', `invoice ${id} is being rated by ${holder}; try again in a moment`, 'invoice_id');

/** The claim this computation was made under is gone (it expired and another worker took it). */
export const claimLost = (id: string, claimer: string): PolarisError =>
  new PolarisError('failed_precondition', 'invoice_claim_lost', `invoice ${id} is no longer claimed by ${claimer}; its result was not written`, 'invoice_id');

/**
 * A finalization computed its adjustments from the subscription's invoices as they were; another
 * one was finalized or voided since, so they may count late usage twice or miss it. Computing
 * again is the fix, so the error is retryable.
 */
export const billingChanged = (id: string): PolarisError =>
  new PolarisError(
    'unavailable',
    'billing_changed',
    `another invoice of the subscription of invoice ${id} was finalized or voided while it was computed; compute it again`,
    'invoice_id',
  );
