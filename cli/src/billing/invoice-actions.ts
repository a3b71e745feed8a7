import { customers, invoices, type Organization, type Transactable } from '@polaris/postgres';
import { PolarisError } from '@polaris/shared/errors';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';
import { findOrganization } from '../identity/organizations';
import { requireRatingWorker, withInvoices } from './invoice-client';
import { protoInvoiceView, storedInvoiceView, type InvoiceView } from './invoice-view';

// What the `invoice` commands do. Reading and the status changes that need no usage (list, get,
// pay, void) go through the invoice repository of @polaris/postgres, the same code the
// rating-worker serves gRPC with; recompute, finalize and the estimate read usage, which only the
// rating-worker can, so they call its Invoices gRPC. The history records the actor `operator`.

const ACTOR = 'operator';
const FLAGS: Readonly<Record<string, string>> = { customer_id: '--customer', subscription_id: '--subscription', status: '--status', invoice_id: 'the <invoice-id> argument' };

type Found = { organization: Organization; invoice: InvoiceView };

/** A refusal of a repository as a CliError, naming the flag to fix. */
async function refusalsForTerminal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof PolarisError) || error.kind === 'internal' || error.kind === 'unavailable') throw error;
    const flag = error.kind === 'invalid_argument' && error.field ? FLAGS[error.field] : undefined;
    throw new CliError(flag && !error.message.includes(flag) ? `${error.message} (${flag})` : error.message);
  }
}

/** The organization's invoices, newest first, up to `limit`, filtered. */
export async function listInvoices(
  db: Transactable,
  input: { org: string; customer?: string; subscription?: string; status?: string; limit: number },
): Promise<{ organization: Organization; invoices: InvoiceView[] }> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    const customerId = input.customer === undefined ? undefined : (await customers.get(db, { organizationId: organization.id, externalId: input.customer })).id;
    const found: InvoiceView[] = [];
    let pageToken: string | undefined;
    do {
      const page = await invoices.list(db, {
        organizationId: organization.id,
        ...(customerId ? { customerId } : {}),
        ...(input.subscription ? { subscriptionId: input.subscription } : {}),
        ...(input.status ? { status: input.status } : {}),
        pageSize: Math.min(200, input.limit - found.length),
        ...(pageToken ? { pageToken } : {}),
      });
      found.push(...page.invoices.map((i) => storedInvoiceView(i)));
      pageToken = page.nextPageToken;
    } while (pageToken && found.length < input.limit);
    return { organization, invoices: found };
  });
}

export async function getInvoice(db: Transactable, input: { org: string; invoiceId: string }): Promise<Found> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    return { organization, invoice: storedInvoiceView(await invoices.get(db, { organizationId: organization.id, invoiceId: input.invoiceId })) };
  });
}

/** Paid (a finalized invoice) or void (a draft or a finalized one): no usage involved. */
export async function changeInvoiceStatus(db: Transactable, input: { org: string; invoiceId: string; to: 'paid' | 'void' }): Promise<Found> {
  return refusalsForTerminal(async () => {
    const organization = await findOrganization(db, input.org);
    const ref = { organizationId: organization.id, invoiceId: input.invoiceId, actor: ACTOR };
    await (input.to === 'paid' ? invoices.markPaid(db, ref) : invoices.void(db, ref));
    return { organization, invoice: storedInvoiceView(await invoices.get(db, ref)) };
  });
}

/** Recompute (a draft, from the stored usage) or finalize (recompute once more and freeze), by the rating-worker. */
export async function rateInvoice(db: Transactable, config: OperatorConfig, input: { org: string; invoiceId: string; action: 'recompute' | 'finalize' }): Promise<Found> {
  requireRatingWorker(config, input.action);
  const organization = await refusalsForTerminal(() => findOrganization(db, input.org));
  const request = { organizationId: organization.id, invoiceId: input.invoiceId, actor: ACTOR };
  const invoice = await withInvoices(config, input.action, (call) =>
    input.action === 'recompute'
      ? call((c) => c.recomputeInvoice.bind(c), request, organization.id)
      : call((c) => c.finalizeInvoice.bind(c), request, organization.id),
  );
  return { organization, invoice: protoInvoiceView(invoice) };
}

/** The customer's current period so far (an estimate, never stored), by the rating-worker. */
export async function upcomingInvoice(db: Transactable, config: OperatorConfig, input: { org: string; customer: string }): Promise<Found> {
  requireRatingWorker(config, 'upcoming');
  const organization = await refusalsForTerminal(() => findOrganization(db, input.org));
  const estimate = await withInvoices(config, 'upcoming', (call) =>
    call((c) => c.getUpcomingInvoice.bind(c), { organizationId: organization.id, customerId: '', externalId: input.customer }, organization.id),
  );
  return { organization, invoice: protoInvoiceView(estimate) };
}
