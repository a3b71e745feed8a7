import { credentials, type CallOptions, type Client, type ClientUnaryCall, type Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  BillingAnchor, CustomersClient, Invoice, InvoicesClient, MeterAggregation, MetersClient, PlansClient, Price, PriceTier, SubscriptionsClient,
  type Customer, type InvoiceEvent, type InvoiceLine, type Meter, type PlanVersion, type Subscription,
} from '@polaris/proto';
import type { InternalCaller } from '@polaris/shared/grpc';
import { eventually } from './http';
import { callerMetadata } from './internal-token';

/**
 * The rating-worker's billing services (proto/polaris/v1/billing.proto) and Meters, called as the
 * gateway calls them (or as the operator CLI): a caller token acting for the organization, and
 * the organization id in every request. A refusal comes back as an RpcError with the gRPC status
 * and the Polaris code and field, as the gateway would receive them.
 */

const DEADLINE_MS = 30_000;
const insecure = credentials.createInsecure();

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;

export class RpcError extends Error {
  constructor(
    /** The gRPC status (`status.FAILED_PRECONDITION`, …). */
    readonly grpcCode: number,
    /** polaris-error-code */
    readonly code: string | undefined,
    /** polaris-error-field */
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

function rpcError(err: ServiceError): RpcError {
  const meta = (key: string) => err.metadata?.get(key)[0]?.toString();
  return new RpcError(err.code, meta('polaris-error-code'), meta('polaris-error-field'), err.details);
}

/** The refusal of a call that must fail. */
export async function refusal(call: Promise<unknown>): Promise<RpcError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof RpcError) return err;
    throw err;
  }
  throw new Error('expected the call to be refused, and it succeeded');
}

/** A price as a scenario writes it: the fields its model reads, the rest left unset. */
export type PriceSpec = Partial<Omit<Price, 'tiers'>> & { tiers?: Array<Partial<PriceTier>> };

export interface PlanInput {
  key: string;
  currency: string;
  prices: PriceSpec[];
}

export interface CustomerInput {
  externalId: string;
  currency: string;
  timeZone?: string;
  subjects: string[];
}

/** A meter as the scenarios need them: SUM of a path, or COUNT. */
export interface MeterSpec {
  slug: string;
  eventType: string;
  /** SUM of this path; COUNT when absent. */
  valuePath?: string;
}

export class BillingApi {
  private readonly customers: CustomersClient;
  private readonly plans: PlansClient;
  private readonly subscriptions: SubscriptionsClient;
  private readonly invoices: InvoicesClient;
  private readonly meters: MetersClient;

  /** The rating-worker at `addr`, called as `caller` (the gateway unless told). */
  constructor(
    readonly addr: string,
    private readonly caller: InternalCaller = 'gateway',
  ) {
    this.customers = new CustomersClient(addr, insecure);
    this.plans = new PlansClient(addr, insecure);
    this.subscriptions = new SubscriptionsClient(addr, insecure);
    this.invoices = new InvoicesClient(addr, insecure);
    this.meters = new MetersClient(addr, insecure);
  }

  /** The same rating-worker called as another internal caller (e.g. `operator`). */
  as(caller: InternalCaller): BillingApi {
    return new BillingApi(this.addr, caller);
  }

  close(): void {
    for (const client of [this.customers, this.plans, this.subscriptions, this.invoices, this.meters]) client.close();
  }

  private async call<C extends Client, Req, Res>(client: C, service: string, method: (c: C) => Unary<Req, Res>, request: Req, org: string): Promise<Res> {
    const metadata = await callerMetadata(service, { caller: this.caller, actingFor: org });
    return new Promise<Res>((resolve, reject) => {
      method(client).call(client, request, metadata, { deadline: Date.now() + DEADLINE_MS }, (err, res) => (err ? reject(rpcError(err)) : resolve(res)));
    });
  }

  // ── Meters ────────────────────────────────────────────────────────────────────────────────

  /** Creates the meters, then waits until each is ready (its backfill done, so every sink extracts it live). */
  async createMeters(org: string, specs: readonly MeterSpec[]): Promise<void> {
    for (const spec of specs) {
      const definition = {
        eventType: spec.eventType,
        aggregation: spec.valuePath ? MeterAggregation.METER_AGGREGATION_SUM : MeterAggregation.METER_AGGREGATION_COUNT,
        valuePath: spec.valuePath ?? '',
        uniquePath: '',
        dimensions: [],
      };
      await this.call(this.meters, 'polaris.v1.Meters', (c) => c.createMeter, { organizationId: org, slug: spec.slug, name: spec.slug, description: '', definition }, org);
    }
    for (const spec of specs) {
      await eventually(
        async () => {
          const meter: Meter = await this.call(this.meters, 'polaris.v1.Meters', (c) => c.getMeter, { organizationId: org, slug: spec.slug }, org);
          if (meter.latestBackfill?.state === 'failed') throw new Error(`the backfill of meter ${spec.slug} failed: ${meter.latestBackfill.error}`);
          return meter.currentVersion?.state === 'ready' && !meter.pendingVersion ? true : undefined;
        },
        `meter ${spec.slug} to be ready`,
        60_000,
        250,
      );
    }
  }

  // ── Catalog ───────────────────────────────────────────────────────────────────────────────

  createCustomer(org: string, input: CustomerInput): Promise<Customer> {
    const request = { organizationId: org, name: input.externalId, email: '', timeZone: '', ...input };
    return this.call(this.customers, 'polaris.v1.Customers', (c) => c.createCustomer, request, org);
  }

  /** Creates the plan (its version 1, a draft) and publishes that version. */
  async createPublishedPlan(org: string, plan: PlanInput): Promise<PlanVersion> {
    const prices = plan.prices.map((p) => Price.fromPartial({ ...p, tiers: (p.tiers ?? []).map((t) => PriceTier.fromPartial(t)) }));
    await this.call(this.plans, 'polaris.v1.Plans', (c) => c.createPlan, { organizationId: org, key: plan.key, name: plan.key, description: '', currency: plan.currency, prices }, org);
    return this.call(this.plans, 'polaris.v1.Plans', (c) => c.publishPlanVersion, { organizationId: org, planKey: plan.key, version: 1 }, org);
  }

  subscribe(org: string, input: { customerId: string; planKey: string; startAt: Date; anchor?: BillingAnchor }): Promise<Subscription> {
    const request = {
      customer: { organizationId: org, customerId: input.customerId, externalId: '' },
      planKey: input.planKey,
      planVersion: 0,
      startAt: input.startAt,
      billingAnchor: input.anchor ?? BillingAnchor.BILLING_ANCHOR_CALENDAR,
    };
    return this.call(this.subscriptions, 'polaris.v1.Subscriptions', (c) => c.createSubscription, request, org);
  }

  // ── Invoices ──────────────────────────────────────────────────────────────────────────────

  /** Every invoice of the subscription (one page: a scenario makes few), newest first, without lines. */
  async listInvoices(org: string, subscriptionId: string): Promise<Invoice[]> {
    const request = { organizationId: org, customerId: '', subscriptionId, status: '', pageSize: 200, pageToken: '' };
    return (await this.call(this.invoices, 'polaris.v1.Invoices', (c) => c.listInvoices, request, org)).invoices;
  }

  getInvoice(org: string, invoiceId: string): Promise<Invoice> {
    return this.call(this.invoices, 'polaris.v1.Invoices', (c) => c.getInvoice, { organizationId: org, invoiceId }, org);
  }

  private action(name: 'recomputeInvoice' | 'finalizeInvoice' | 'markInvoicePaid' | 'voidInvoice', org: string, invoiceId: string, actor = ''): Promise<Invoice> {
    return this.call(this.invoices, 'polaris.v1.Invoices', (c) => c[name], { organizationId: org, invoiceId, actor }, org);
  }

  recompute = (org: string, invoiceId: string, actor?: string) => this.action('recomputeInvoice', org, invoiceId, actor);
  finalize = (org: string, invoiceId: string, actor?: string) => this.action('finalizeInvoice', org, invoiceId, actor);
  markPaid = (org: string, invoiceId: string, actor?: string) => this.action('markInvoicePaid', org, invoiceId, actor);
  voidInvoice = (org: string, invoiceId: string, actor?: string) => this.action('voidInvoice', org, invoiceId, actor);

  upcoming(org: string, customerId: string): Promise<Invoice> {
    return this.call(this.invoices, 'polaris.v1.Invoices', (c) => c.getUpcomingInvoice, { organizationId: org, customerId, externalId: '' }, org);
  }

  /**
   * Waits until the rating jobs have opened and computed the subscription's invoice of the period
   * starting at `periodStart` (a draft with lines_hash, or already finalized), then returns it in full.
   */
  async waitForInvoice(org: string, subscriptionId: string, periodStart: Date, deadlineMs = 45_000): Promise<Invoice> {
    return eventually(
      async () => {
        const listed = (await this.listInvoices(org, subscriptionId)).find((i) => i.periodStart?.getTime() === periodStart.getTime());
        if (!listed?.linesHash) return undefined;
        return this.getInvoice(org, listed.id);
      },
      `the invoice of subscription ${subscriptionId} for the period from ${periodStart.toISOString()}`,
      deadlineMs,
      250,
    );
  }
}

/** An invoice line as the scenarios write their expectations: the figures, no ids or meter versions. */
export function lineFigures(line: InvoiceLine) {
  return {
    key: line.lineKey,
    kind: line.kind,
    quantity: line.quantity,
    billable: line.billableQuantity,
    unitPrice: line.unitPrice,
    amount: line.amount,
    ...(line.tiers.length > 0 ? { tiers: line.tiers.map((t) => [t.tier, t.from, t.upTo, t.quantity, t.unitPrice, t.flatFee, t.amount]) } : {}),
  };
}

/** The history as (action, from, to, actor): what changed, and who made it. */
export const historyOf = (invoice: Invoice): Array<[string, string, string, string]> =>
  invoice.history.map((e: InvoiceEvent) => [e.action, e.fromStatus, e.toStatus, e.actor]);

/** The wire bytes of an invoice's lines and totals, as a client receives them: for byte-for-byte comparisons. */
export const linesAndTotalsBytes = (invoice: Invoice): Buffer =>
  Buffer.from(Invoice.encode(Invoice.fromPartial({ currency: invoice.currency, lines: invoice.lines, subtotal: invoice.subtotal, total: invoice.total, linesHash: invoice.linesHash })).finish());

/** The first instant of the UTC month `offset` months from the one holding `now` (−1: last month). */
export function utcMonthStart(now: Date, offset: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
}
