import { billingCycle, invoices, withOrg, type InvoiceComputation, type Pool, type RatedParty, type RatedVersion } from '@polaris/postgres';
import type { BillingPeriod, Price } from '@polaris/shared/billing';
import { rateInvoice, type LatePeriod, type MeteredQuantity } from './rate-invoice';
import type { UsageReader } from './usage-reader';

// The I/O part of rating: everything an invoice's lines depend on, read, then handed to the pure
// rateInvoice. The rate-period job, RecomputeInvoice, finalization and the estimate all come
// through here, so they cannot disagree about what an invoice says.

export interface RatingSources {
  pool: Pool;
  usage: UsageReader;
  /** Late usage is looked for in periods that ended within this long before the invoice's period (LATE_USAGE_LOOKBACK_DAYS). */
  lateLookbackMs: number;
}

export interface InvoiceToRate {
  organizationId: string;
  subscriptionId: string;
  /** The phase's version holding the period's start. */
  planVersionId: string;
  /** The period the invoice bills. */
  period: BillingPeriod;
  /** Usage is read up to here (the estimate: now); default the period's end. */
  usageTo?: Date;
  /** When the usage is read (default now): the invoice's usage_as_of. */
  usageAsOf?: Date;
}

export interface ComputedInvoice {
  computation: InvoiceComputation;
  currency: string;
  /** The subscription's invoices as the adjustments saw them: a finalization checks it (invoices.finalize). */
  basis: string;
  party: RatedParty;
}

const metered = (prices: readonly Price[]) => prices.filter((p): p is Price & { meterSlug: string } => p.model !== 'FLAT' && p.meterSlug !== undefined);

function versionOf(versions: ReadonlyMap<string, RatedVersion>, id: string): RatedVersion {
  const version = versions.get(id);
  // Versions are never deleted and invoices reference them by foreign key.
  if (!version) throw new Error(`plan version ${id} is not readable`);
  return version;
}

export async function computeInvoice(sources: RatingSources, target: InvoiceToRate): Promise<ComputedInvoice> {
  const { pool, usage } = sources;
  const { organizationId, subscriptionId, period } = target;
  const usageAsOf = target.usageAsOf ?? new Date();
  // What PostgreSQL holds, in one short transaction of the organization; the usage reads (gRPC,
  // maybe seconds) come after it, holding no connection.
  const { party, billed, versions } = await withOrg(pool, organizationId, async (tx) => {
    const party = await billingCycle.partyOf(tx, organizationId, subscriptionId);
    const billed = await invoices.billedForPeriod(tx, {
      organizationId,
      subscriptionId,
      before: period.start,
      since: new Date(period.start.getTime() - sources.lateLookbackMs),
    });
    const versions = await billingCycle.ratedVersions(tx, organizationId, [target.planVersionId, ...billed.periods.map((p) => p.planVersionId)]);
    return { party, billed, versions };
  });
  const version = versionOf(versions, target.planVersionId);

  const readAll = async (prices: readonly Price[], over: BillingPeriod): Promise<Map<string, MeteredQuantity>> => {
    const reads = metered(prices).map(async (price) => {
      const read = await usage.read({ organizationId, meterSlug: price.meterSlug, subjects: party.subjects, from: over.start, to: over.end });
      return [price.key, read] as const;
    });
    return new Map(await Promise.all(reads));
  };
  const usagePeriod = { start: period.start, end: target.usageTo ?? period.end };
  // Every reading at once: the reader coalesces them with other invoices' (usage-reader.ts).
  const [quantities, ...lateQuantities] = await Promise.all([
    readAll(version.prices, usagePeriod),
    ...billed.periods.map((p) => readAll(versionOf(versions, p.planVersionId).prices, p)),
  ]);
  const late: LatePeriod[] = billed.periods.map((p, i) => {
    const own = versionOf(versions, p.planVersionId);
    return {
      period: { start: p.start, end: p.end },
      currency: own.currency,
      prices: own.prices,
      billed: new Map(p.prices.map((b) => [b.priceKey, b])),
      quantities: lateQuantities[i] ?? new Map(),
    };
  });
  const rated = rateInvoice({
    currency: version.currency,
    timeZone: party.timeZone,
    usagePeriod,
    prices: version.prices,
    quantities: quantities ?? new Map(),
    late,
  });
  return { computation: { ...rated, usageAsOf }, currency: version.currency, basis: billed.basis, party };
}
