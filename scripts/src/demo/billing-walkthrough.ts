import type { Organization } from '@polaris/postgres';
import { invoicesText, invoiceText, versionText } from '@polaris/cli/billing';
import { ensureDemoCustomers, ensureDemoPlan, estimateFor, finalizeOne, latestInvoices, subscribe, unsubscribed, waitForInvoices, type BillingTarget } from './demo-billing';
import { closedFirstPeriod, DEMO_PLAN } from './demo-plan';
import { meterTotal } from './demo-usage';
import type { GraphQLRequest } from './graphql-client';
import { sampleEvents } from './sample-events';

// The billing part of `polaris demo`, step by step, each printing a short section: the plan and
// customers, subscriptions whose first period has closed (its events sent first), the invoices the
// rating-worker drafts, one finalized, and the estimate of the current period.

const PERIOD_EVENTS = 240;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The rating-worker scans every few seconds under the demo; a job then reads a month of usage. */
const DRAFT_DEADLINE_MS = 120_000;

export interface Walkthrough {
  target: BillingTarget;
  organization: Pick<Organization, 'id' | 'slug'>;
  /** Gateway requests with the demo's key: waits for the period's events to be readable. */
  request: GraphQLRequest;
  /** Sends a batch through the collector, as the rest of the demo's traffic. */
  send: (events: Record<string, unknown>[]) => Promise<void>;
  batch: number;
  scanIntervalMs: number;
}

const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');

/** Reads a meter's total over [from, to) until it reaches `expected`. */
async function waitForTotal(request: GraphQLRequest, slug: string, from: string, to: string, expected: number, deadline: number): Promise<void> {
  while (Number((await meterTotal(request, slug, from, to)) ?? 0) < expected) {
    if (Date.now() > deadline) throw new Error(`the ${slug} of the billed period did not reach ${expected} within 30 s; see the sink-worker's log`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Events dated inside `period` (20 days of the demo's traffic shape, ending an hour before it
 * closed: well within the collector's 35-day backdating limit), sent and waited for until the
 * Usage API counts them, so the invoice rated next holds them.
 */
async function sendPeriodEvents(w: Walkthrough, period: { start: Date; end: Date }): Promise<number> {
  const endMs = period.end.getTime() - HOUR;
  const spanMs = Math.min(20 * DAY, endMs - period.start.getTime() - HOUR);
  const events = sampleEvents(PERIOD_EVENTS, endMs, spanMs);
  const [from, to] = [period.start.toISOString(), period.end.toISOString()];
  const calls = events.filter((e) => e.type === 'api.request').length;
  const tokens = events.reduce((sum, e) => sum + (e.type === 'llm.tokens' ? Number((e.data as { tokens: number }).tokens) : 0), 0);
  const before = { calls: Number((await meterTotal(w.request, 'api_calls', from, to)) ?? 0), tokens: Number((await meterTotal(w.request, 'tokens', from, to)) ?? 0) };
  for (let i = 0; i < events.length; i += w.batch) await w.send(events.slice(i, i + w.batch));
  const deadline = Date.now() + 30_000;
  await waitForTotal(w.request, 'api_calls', from, to, before.calls + calls, deadline);
  await waitForTotal(w.request, 'tokens', from, to, before.tokens + tokens, deadline);
  return events.length;
}

/** Runs the billing steps and prints them; what it cannot do (a customer refused, a late draft) it says and goes on. */
export async function billingWalkthrough(w: Walkthrough): Promise<void> {
  const { target, organization } = w;
  const org = organization.slug;
  console.log(`\nBilling (README "Billing quick start"; price models and rounding: docs/billing.md)\n`);

  const plan = await ensureDemoPlan(target);
  console.log(`  plan ${DEMO_PLAN.key}${plan.created ? ' (created and published)' : ' (from an earlier run)'}:\n${indent(versionText(plan.version))}`);

  const { customers, created, problems } = await ensureDemoCustomers(target);
  for (const problem of problems) console.log(`  ! ${problem}`);
  const names = customers.map((c) => `${c.externalId} (subjects ${c.subjects.join(', ')})`).join(', ');
  console.log(`  customers ${names}${created.length > 0 ? `; created ${created.join(', ')}` : ''}`);
  if (customers.length === 0) return;

  const toSubscribe = await unsubscribed(target, customers);
  if (toSubscribe.length > 0) {
    const { startAt, period } = closedFirstPeriod(Date.now());
    const sent = await sendPeriodEvents(w, period);
    console.log(`  sent ${sent} events dated inside ${period.start.toISOString()} .. ${period.end.toISOString()}, through the collector`);
    await subscribe(target, toSubscribe, plan.version, startAt);
    const closedMin = Math.round((Date.now() - period.end.getTime()) / 60_000);
    console.log(
      `  subscribed ${toSubscribe.map((c) => c.externalId).join(', ')} to ${DEMO_PLAN.key} v${plan.version.version} from ${startAt.toISOString()}, ` +
        `anniversary anchor: its first period closed ${closedMin} min ago (rated after the 5 min settle delay; finalized by itself 1 h after it closed)`,
    );
  } else {
    console.log('  subscriptions from an earlier run: showing their latest closed period');
  }

  const started = Date.now();
  console.log(`  waiting for the rating-worker to draft the invoices (it scans every ${w.scanIntervalMs / 1000} s) …`);
  const { ready, late } = await waitForInvoices(target, customers, DRAFT_DEADLINE_MS);
  for (const why of late) console.log(`  ! not ready after ${DRAFT_DEADLINE_MS / 1000} s: ${why} (rating-worker log, or the queue board below)`);
  console.log(`  ${ready.size} invoice(s) ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const shown = await finalizeOne(target, ready);
  if (!shown) return;
  const { invoice, finalizedNow } = shown;
  const how = finalizedNow ? `finalized now: npx polaris invoice finalize ${invoice.id ?? ''} --org ${org}` : `finalized by an earlier run: npx polaris invoice get ${invoice.id ?? ''} --org ${org}`;
  console.log(`\nInvoice (${how})\n\n${indent(invoiceText(organization, invoice))}`);

  console.log(`\nInvoices (npx polaris invoice list --org ${org}; the newest per demo customer)\n\n${indent(invoicesText(organization, await latestInvoices(target, customers)))}`);

  const estimate = await estimateFor(target, invoice.customerExternalId);
  console.log(`\nESTIMATE of ${invoice.customerExternalId}'s current period (npx polaris invoice upcoming ${invoice.customerExternalId} --org ${org})\n\n${indent(invoiceText(organization, estimate))}`);
}
