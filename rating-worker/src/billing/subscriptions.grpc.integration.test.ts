import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers, plans } from '@polaris/postgres';
import { BillingAnchor, SubscriptionsClient, type CreateSubscriptionRequest } from '@polaris/proto';
import { rejection, startBillingGrpc, type BillingGrpcHarness } from '../test-support/billing-grpc-harness';
import { subscriptionsService } from './subscriptions.grpc';

// polaris.v1.Subscriptions over a real server and a PostgreSQL database of its own. Periods are
// computed from now here: the assertions derive what they expect from the answer's own dates.

const PERMISSION_DENIED = 7; // grpc status
let h: BillingGrpcHarness;
let gateway: SubscriptionsClient;

beforeAll(async () => {
  h = await startBillingGrpc((pool, unary) => [subscriptionsService(pool, unary)]);
  gateway = h.client(SubscriptionsClient);
  const pool = h.db.pool;
  for (const externalId of ['c1', 'c2', 'c3']) await customers.create(pool, { organizationId: h.orgA, externalId, name: externalId, currency: 'USD', timeZone: 'Europe/Paris' });
  await plans.create(pool, { organizationId: h.orgA, key: 'basic', currency: 'USD', prices: [{ key: 'base', model: 'FLAT', amount: '10' }] });
  await plans.publishVersion(pool, { organizationId: h.orgA, planKey: 'basic', version: 1 });
  await plans.createVersion(pool, { organizationId: h.orgA, planKey: 'basic', currency: 'USD', prices: [{ key: 'base', model: 'FLAT', amount: '12' }] });
});
afterAll(async () => h?.stop());

const subscribe = (externalId: string, extra: Partial<CreateSubscriptionRequest> = {}) =>
  h.call(
    gateway.createSubscription.bind(gateway),
    {
      customer: { organizationId: h.orgA, customerId: '', externalId },
      planKey: 'basic',
      planVersion: 0,
      billingAnchor: BillingAnchor.BILLING_ANCHOR_UNSPECIFIED,
      ...extra,
    },
    h.orgA,
  );

describe('Subscriptions gRPC', () => {
  it('subscribes, shows the current period, changes plan at its end and cancels', async () => {
    const start = new Date('2026-01-15T10:20:30Z');
    const created = await subscribe('c1', { startAt: start, billingAnchor: BillingAnchor.BILLING_ANCHOR_ANNIVERSARY });
    expect(created).toMatchObject({
      organizationId: h.orgA,
      customerExternalId: 'c1',
      status: 'active',
      billingAnchor: BillingAnchor.BILLING_ANCHOR_ANNIVERSARY,
      startAt: new Date('2026-01-15T10:20:00Z'),
      timeZone: 'Europe/Paris',
      billedThrough: new Date('2026-01-15T10:20:00Z'),
      phases: [{ planKey: 'basic', planVersion: 1, startsAt: new Date('2026-01-15T10:20:00Z') }],
    });
    const now = Date.now();
    expect(created.currentPeriodStart?.getTime()).toBeLessThanOrEqual(now);
    expect(created.currentPeriodEnd?.getTime()).toBeGreaterThan(now);
    expect(created.cancelAt).toBeUndefined();
    const ref = { organizationId: h.orgA, subscriptionId: created.id };
    expect(await h.call(gateway.getSubscription.bind(gateway), ref, h.orgA)).toMatchObject({ id: created.id, phases: created.phases });

    await plans.publishVersion(h.db.pool, { organizationId: h.orgA, planKey: 'basic', version: 2 });
    const changed = await h.call(gateway.changeSubscriptionPlan.bind(gateway), { subscription: ref, planKey: 'basic', planVersion: 2 }, h.orgA);
    expect(changed.phases.map((p) => [p.planVersion, p.startsAt])).toEqual([
      [1, created.startAt],
      [2, created.currentPeriodEnd],
    ]);
    const prorated = h.call(gateway.changeSubscriptionPlan.bind(gateway), { subscription: ref, planKey: 'basic', planVersion: 1, effectiveAt: new Date(now) }, h.orgA);
    expect(await rejection(prorated)).toMatchObject({ kind: 'failed_precondition', code: 'proration_not_supported', field: 'effective_at' });

    const canceled = await h.call(gateway.cancelSubscription.bind(gateway), ref, h.orgA);
    expect(canceled.cancelAt).toEqual(created.currentPeriodEnd);
    expect(canceled.phases.map((p) => p.planVersion)).toEqual([1]);
    expect(await h.call(gateway.cancelSubscription.bind(gateway), ref, h.orgA)).toEqual(canceled);

    const listed = await h.call(gateway.listSubscriptions.bind(gateway), { organizationId: h.orgA, customerId: created.customerId, pageSize: 0, pageToken: '' }, h.orgA);
    expect(listed.subscriptions.map((s) => s.id)).toEqual([created.id]);
  });

  it('answers bad input with the code and the field', async () => {
    expect(await rejection(subscribe('c2', { planVersion: 3 }))).toMatchObject({ kind: 'not_found', code: 'plan_version_not_found', field: 'plan_version' });
    await plans.createVersion(h.db.pool, { organizationId: h.orgA, planKey: 'basic', currency: 'USD', prices: [] });
    expect(await rejection(subscribe('c2', { planVersion: 3 }))).toMatchObject({ kind: 'failed_precondition', code: 'plan_version_not_published', field: 'plan_version' });
    expect(await rejection(subscribe('c2', { billingAnchor: 9 as BillingAnchor }))).toMatchObject({ kind: 'invalid_argument', code: 'invalid_billing_anchor', field: 'billing_anchor' });
    expect(await rejection(subscribe('nobody'))).toMatchObject({ kind: 'not_found', code: 'customer_not_found' });
  });

  it("finds nothing of another organization's, and refuses a call acting for another organization", async () => {
    const theirs = await subscribe('c3');
    const foreign = { organizationId: h.orgB, subscriptionId: theirs.id };
    expect(await rejection(h.call(gateway.getSubscription.bind(gateway), foreign, h.orgB))).toMatchObject({ kind: 'not_found', code: 'subscription_not_found' });
    expect(await rejection(h.call(gateway.cancelSubscription.bind(gateway), foreign, h.orgB))).toMatchObject({ code: 'subscription_not_found' });

    const owner = { organizationId: h.orgA, subscriptionId: theirs.id };
    const denied = { grpcCode: PERMISSION_DENIED, code: 'organization_mismatch', field: 'organization_id' };
    expect(await h.outcome(SubscriptionsClient, 'cancelSubscription', owner, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(SubscriptionsClient, 'changeSubscriptionPlan', { subscription: owner, planKey: 'basic', planVersion: 1 }, { actingFor: h.orgB })).toEqual(denied);
    const create = { customer: { organizationId: h.orgA, customerId: '', externalId: 'c3' }, planKey: 'basic', planVersion: 0, billingAnchor: 0 };
    expect(await h.outcome(SubscriptionsClient, 'createSubscription', create, { actingFor: h.orgB })).toEqual(denied);
    expect(await h.outcome(SubscriptionsClient, 'getSubscription', owner, { caller: 'operator', actingFor: h.orgA })).toBe('ok');
    expect((await h.call(gateway.getSubscription.bind(gateway), owner, h.orgA)).cancelAt).toBeUndefined();
  });
});
