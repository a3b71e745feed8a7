import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customers, meters, thresholdFirings, withOrg } from '@polaris/postgres';
import { createInternalAuth } from '@polaris/shared/grpc';
import { createLogger } from '@polaris/shared/service';
import { UsageThresholdsClient, type UsageThreshold } from '@polaris/proto';
import { rejection, startBillingGrpc, type BillingGrpcHarness } from '../test-support/billing-grpc-harness';
import { subscribedCustomer } from '../test-support/billing-catalog';
import { insertUsage, readyMeter, startUsageServer, type UsageServer } from '../test-support/usage-server';
import { connectUsage } from '../rating/usage-client';
import { UsageReader } from '../rating/usage-reader';
import { evaluateThresholds, type EvaluatorDeps } from './threshold-evaluator';
import { firedThresholdsOf } from './upcoming-firings';
import { usageThresholdsService } from './usage-thresholds.grpc';

// Usage thresholds over a real server, a PostgreSQL database of their own and the sink-worker's
// real Usage service over ClickHouse: bad input is refused by field, an organization sees and
// touches only its own, and the evaluation fires each threshold once per billing period whatever
// repeats, never on a failed read.

const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
const JAN = new Date('2026-01-01T00:00:00Z');
const FEB = new Date('2026-02-01T00:00:00Z');
const MID_JAN = new Date('2026-01-15T12:00:00Z');
const MID_FEB = new Date('2026-02-15T12:00:00Z');

let h: BillingGrpcHarness;
let gateway: UsageThresholdsClient;
let usage: UsageServer;
let client: ReturnType<typeof connectUsage>;
let deps: EvaluatorDeps;
let versionA: string;

const calls = (subject: string, n: number, at: Date) => Array.from({ length: n }, (_, i) => ({ subject, at: new Date(at.getTime() + i * 60_000) }));
const notificationsOf = async (org: string, dedupePrefix: string) =>
  (
    await h.db.pool.query('SELECT dedupe_key, payload FROM notification_events WHERE organization_id = $1 AND dedupe_key LIKE $2 ORDER BY created_at', [
      org,
      `${dedupePrefix}%`,
    ])
  ).rows as Array<{ dedupe_key: string; payload: Record<string, unknown> }>;

function create(org: string, req: { externalId?: string; customerId?: string; meter: string; quantity?: string; percent?: string }): Promise<UsageThreshold> {
  return h.call(
    gateway.createUsageThreshold.bind(gateway),
    { organizationId: org, customerId: req.customerId ?? '', externalId: req.externalId ?? '', meter: req.meter, quantity: req.quantity ?? '', percent: req.percent ?? '' },
    org,
  );
}

beforeAll(async () => {
  h = await startBillingGrpc((pool, unary) => [usageThresholdsService(pool, unary)]);
  gateway = h.client(UsageThresholdsClient);
  usage = await startUsageServer(h.db.pool, secret);
  client = connectUsage(usage.addr, createInternalAuth(secret, 'rating-worker'), 10_000);
  deps = { pool: h.db.pool, usage: new UsageReader(client.queryMeter, { batchWindowMs: 1 }), logger: createLogger('it-thresholds', 'silent'), settleMs: 300_000 };
  await meters.create(h.db.pool, { organizationId: h.orgA, slug: 'calls', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
  versionA = await readyMeter(h.db.pool, h.orgA, 'calls');
  await meters.create(h.db.pool, { organizationId: h.orgB, slug: 'b_calls', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
  await readyMeter(h.db.pool, h.orgB, 'b_calls');
});

afterAll(async () => {
  client?.close();
  await usage?.stop();
  await h?.stop();
});

const perUnit = (freeQuota: string) => [{ key: 'calls', name: 'Calls', model: 'PER_UNIT', meterSlug: 'calls', unitPrice: '0.01', freeQuota }];

describe('UsageThresholds gRPC', () => {
  it('creates, lists and archives thresholds; absolute and percent of the included quantity', async () => {
    const { customer } = await subscribedCustomer(h.db.pool, { organizationId: h.orgA, prices: perUnit('1000'), subjects: ['crud-1'], startAt: JAN });
    const absolute = await create(h.orgA, { externalId: customer.externalId, meter: 'calls', quantity: '500.50' });
    expect(absolute).toMatchObject({ customerId: customer.id, meterSlug: 'calls', kind: 'absolute', quantity: '500.5', percent: '', status: 'active' });
    const percent = await create(h.orgA, { customerId: customer.id, meter: 'calls', percent: '80' });
    expect(percent).toMatchObject({ kind: 'percent', percent: '80', quantity: '' });

    const listed = await h.call(gateway.listUsageThresholds.bind(gateway), { organizationId: h.orgA, customerId: '', externalId: customer.externalId, includeArchived: false }, h.orgA);
    expect(listed.thresholds.map((t) => t.id)).toEqual([absolute.id, percent.id]);
    const archived = await h.call(gateway.archiveUsageThreshold.bind(gateway), { organizationId: h.orgA, thresholdId: absolute.id }, h.orgA);
    expect(archived.status).toBe('archived');
    expect(archived.archivedAt).toBeInstanceOf(Date);
    const active = await h.call(gateway.listUsageThresholds.bind(gateway), { organizationId: h.orgA, customerId: customer.id, externalId: '', includeArchived: false }, h.orgA);
    expect(active.thresholds.map((t) => t.id)).toEqual([percent.id]);
  });

  it('refuses bad input naming the field', async () => {
    const { customer } = await subscribedCustomer(h.db.pool, { organizationId: h.orgA, prices: perUnit('0'), subjects: ['bad-1'], startAt: JAN });
    const ext = customer.externalId;
    const cases: Array<[Parameters<typeof create>[1], object]> = [
      [{ externalId: ext, meter: 'nope', quantity: '10' }, { kind: 'not_found', code: 'meter_not_found', field: 'meter' }],
      [{ externalId: ext, meter: 'b_calls', quantity: '10' }, { kind: 'not_found', code: 'meter_not_found', field: 'meter' }],
      [{ externalId: ext, meter: 'calls', quantity: '0' }, { kind: 'invalid_argument', code: 'invalid_quantity', field: 'quantity' }],
      [{ externalId: ext, meter: 'calls', quantity: '-5' }, { kind: 'invalid_argument', code: 'invalid_quantity', field: 'quantity' }],
      [{ externalId: ext, meter: 'calls', quantity: '1e3' }, { kind: 'invalid_argument', code: 'invalid_quantity', field: 'quantity' }],
      [{ externalId: ext, meter: 'calls', percent: '0' }, { kind: 'invalid_argument', code: 'invalid_percent', field: 'percent' }],
      [{ externalId: ext, meter: 'calls', percent: '1000.01' }, { kind: 'invalid_argument', code: 'invalid_percent', field: 'percent' }],
      [{ externalId: ext, meter: 'calls', quantity: '1', percent: '50' }, { kind: 'invalid_argument', field: 'percent' }],
      [{ externalId: ext, meter: 'calls' }, { kind: 'invalid_argument', code: 'missing_threshold', field: 'quantity' }],
      // The plan's price on the meter includes nothing (free quota 0).
      [{ externalId: ext, meter: 'calls', percent: '50' }, { kind: 'failed_precondition', code: 'no_included_quantity', field: 'percent' }],
      [{ externalId: 'nobody', meter: 'calls', quantity: '1' }, { kind: 'not_found', code: 'customer_not_found', field: 'external_id' }],
    ];
    for (const [req, expected] of cases) expect(await rejection(create(h.orgA, req)), JSON.stringify(req)).toMatchObject(expected);

    // No subscription at all: nothing to be a percentage of.
    const bare = await customers.create(h.db.pool, { organizationId: h.orgA, externalId: `bare-${randomBytes(3).toString('hex')}`, name: 'Bare', currency: 'USD', subjects: [] });
    expect(await rejection(create(h.orgA, { customerId: bare.id, meter: 'calls', percent: '50' }))).toMatchObject({ code: 'no_included_quantity', field: 'percent' });
    expect(await create(h.orgA, { customerId: bare.id, meter: 'calls', quantity: '5' })).toMatchObject({ kind: 'absolute', quantity: '5' });
  });

  it("shows an organization none of another's thresholds, customers or meters", async () => {
    const { customer } = await subscribedCustomer(h.db.pool, { organizationId: h.orgA, prices: perUnit('10'), subjects: ['ten-1'], startAt: JAN });
    const theirs = await create(h.orgA, { customerId: customer.id, meter: 'calls', quantity: '1' });
    // B names A's customer (by id and external id) and A's meter: not found, as if they did not exist.
    expect(await rejection(create(h.orgB, { customerId: customer.id, meter: 'b_calls', quantity: '1' }))).toMatchObject({ code: 'customer_not_found', field: 'customer_id' });
    expect(await rejection(create(h.orgB, { externalId: customer.externalId, meter: 'b_calls', quantity: '1' }))).toMatchObject({ code: 'customer_not_found' });
    const own = await customers.create(h.db.pool, { organizationId: h.orgB, externalId: 'b-own', name: 'B', currency: 'USD', subjects: ['b-own'] });
    expect(await rejection(create(h.orgB, { customerId: own.id, meter: 'calls', quantity: '1' }))).toMatchObject({ code: 'meter_not_found', field: 'meter' });
    expect(
      await rejection(h.call(gateway.listUsageThresholds.bind(gateway), { organizationId: h.orgB, customerId: customer.id, externalId: '', includeArchived: false }, h.orgB)),
    ).toMatchObject({ code: 'customer_not_found' });
    expect(await rejection(h.call(gateway.archiveUsageThreshold.bind(gateway), { organizationId: h.orgB, thresholdId: theirs.id }, h.orgB))).toMatchObject({
      kind: 'not_found',
      code: 'threshold_not_found',
    });
    const firings = await h.call(gateway.listUsageThresholdFirings.bind(gateway), { organizationId: h.orgB, customerId: '', externalId: '', thresholdId: theirs.id, pageSize: 0 }, h.orgB);
    expect(firings.firings).toEqual([]);
    // Acting for B while asking about A is refused before any handler runs.
    const refused = await h.outcome(UsageThresholdsClient, 'listUsageThresholds', { organizationId: h.orgA, customerId: customer.id, externalId: '', includeArchived: false }, { actingFor: h.orgB });
    expect(refused).toMatchObject({ grpcCode: 7, code: 'organization_mismatch' });
  });
});

describe('threshold evaluation', () => {
  it('fires once per period: not below the limit, once at it, never again in that period, again in the next', async () => {
    const subject = `eval-${randomBytes(3).toString('hex')}`;
    const { customer } = await subscribedCustomer(h.db.pool, { organizationId: h.orgA, prices: perUnit('10'), subjects: [subject], startAt: JAN });
    const absolute = await create(h.orgA, { customerId: customer.id, meter: 'calls', quantity: '5' });
    const percent = await create(h.orgA, { customerId: customer.id, meter: 'calls', percent: '150' }); // 15 calls
    const firedOf = async (thresholdId: string) =>
      withOrg(h.db.pool, h.orgA, (tx) => thresholdFirings.list(tx, { organizationId: h.orgA, thresholdId }));

    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 4, new Date('2026-01-10T00:00:00Z')));
    await evaluateThresholds(deps, MID_JAN);
    expect(await firedOf(absolute.id)).toEqual([]);

    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 2, new Date('2026-01-11T00:00:00Z')));
    // Replicas and retries evaluating at once: one firing, one event.
    await Promise.all(Array.from({ length: 5 }, () => evaluateThresholds(deps, MID_JAN)));
    const fired = await firedOf(absolute.id);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ periodStart: JAN, periodEnd: FEB, limitQuantity: '5', observedQuantity: '6', customerExternalId: customer.externalId });
    expect(await firedOf(percent.id)).toEqual([]);
    const events = await notificationsOf(h.orgA, `usage.threshold_crossed:${absolute.id}:`);
    expect(events.map((e) => e.dedupe_key)).toEqual([`usage.threshold_crossed:${absolute.id}:${JAN.toISOString()}`]);
    expect(events[0]?.payload).toEqual({
      thresholdId: absolute.id,
      customerId: customer.id,
      customerExternalId: customer.externalId,
      kind: 'absolute',
      meterSlug: 'calls',
      limitQuantity: '5',
      observedQuantity: '6',
      periodStart: JAN.toISOString(),
      periodEnd: FEB.toISOString(),
    });

    // More usage, later evaluations: still the one firing. The percent threshold crosses 15 once.
    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 10, new Date('2026-01-12T00:00:00Z')));
    await evaluateThresholds(deps, MID_JAN);
    await evaluateThresholds(deps, new Date(MID_JAN.getTime() + 60_000));
    expect(await firedOf(absolute.id)).toHaveLength(1);
    expect(await firedOf(percent.id)).toMatchObject([{ limitQuantity: '15', observedQuantity: '16', percent: '150' }]);
    expect(await notificationsOf(h.orgA, `usage.threshold_crossed:${absolute.id}:`)).toHaveLength(1);

    // The next period starts from 0: below, then crossing fires again, for February.
    await evaluateThresholds(deps, MID_FEB);
    expect(await firedOf(absolute.id)).toHaveLength(1);
    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 5, new Date('2026-02-03T00:00:00Z')));
    await evaluateThresholds(deps, MID_FEB);
    const both = await firedOf(absolute.id);
    expect(both.map((f) => f.periodStart)).toEqual([FEB, JAN]);
    expect(await notificationsOf(h.orgA, `usage.threshold_crossed:${absolute.id}:`)).toHaveLength(2);

    // The upcoming invoice's period shows what fired in it.
    expect((await firedThresholdsOf(h.db.pool, { organizationId: h.orgA, customerId: customer.id, periodStart: FEB })).map((f) => f.thresholdId)).toEqual([absolute.id]);
    // Archived: no longer evaluated, its firings stay.
    await h.call(gateway.archiveUsageThreshold.bind(gateway), { organizationId: h.orgA, thresholdId: percent.id }, h.orgA);
    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 20, new Date('2026-02-04T00:00:00Z')));
    await evaluateThresholds(deps, MID_FEB);
    expect(await firedOf(percent.id)).toHaveLength(1);
  });

  it('fires a crossing in the last minutes of a period after its end, for that period', async () => {
    const subject = `late-${randomBytes(3).toString('hex')}`;
    const { customer } = await subscribedCustomer(h.db.pool, { organizationId: h.orgA, prices: perUnit('10'), subjects: [subject], startAt: JAN });
    const threshold = await create(h.orgA, { customerId: customer.id, meter: 'calls', quantity: '3' });
    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 3, new Date(FEB.getTime() - 3 * 60_000)));
    await evaluateThresholds(deps, new Date(FEB.getTime() + 60_000));
    const fired = await withOrg(h.db.pool, h.orgA, (tx) => thresholdFirings.list(tx, { organizationId: h.orgA, thresholdId: threshold.id }));
    expect(fired).toMatchObject([{ periodStart: JAN, periodEnd: FEB }]);
  });

  it('uses calendar months in the customer time zone without a subscription', async () => {
    const subject = `tz-${randomBytes(3).toString('hex')}`;
    const customer = await customers.create(h.db.pool, { organizationId: h.orgA, externalId: subject, name: 'TZ', currency: 'USD', timeZone: 'America/New_York', subjects: [subject] });
    const threshold = await create(h.orgA, { customerId: customer.id, meter: 'calls', quantity: '2' });
    // 2026-02-01T02:00Z is still January in New York.
    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 2, new Date('2026-02-01T02:00:00Z')));
    await evaluateThresholds(deps, new Date('2026-02-01T03:00:00Z'));
    const fired = await withOrg(h.db.pool, h.orgA, (tx) => thresholdFirings.list(tx, { organizationId: h.orgA, thresholdId: threshold.id }));
    expect(fired).toMatchObject([{ periodStart: new Date('2026-01-01T05:00:00Z'), periodEnd: new Date('2026-02-01T05:00:00Z') }]);
  });

  it('never fires on a failed read or a meter still backfilling', async () => {
    const subject = `fail-${randomBytes(3).toString('hex')}`;
    const { customer } = await subscribedCustomer(h.db.pool, { organizationId: h.orgA, prices: perUnit('10'), subjects: [subject], startAt: JAN });
    const threshold = await create(h.orgA, { customerId: customer.id, meter: 'calls', quantity: '1' });
    await insertUsage(usage.clickhouse, h.orgA, versionA, calls(subject, 2, new Date('2026-01-05T00:00:00Z')));
    const broken: EvaluatorDeps = {
      ...deps,
      usage: new UsageReader(() => Promise.reject(new Error('usage unavailable')), { batchWindowMs: 1 }),
    };
    const summary = await evaluateThresholds(broken, MID_JAN);
    expect(summary.readFailures).toBeGreaterThan(0);
    const firedOf = () => withOrg(h.db.pool, h.orgA, (tx) => thresholdFirings.list(tx, { organizationId: h.orgA, thresholdId: threshold.id }));
    expect(await firedOf()).toEqual([]);

    // A meter whose version is still backfilling answers complete = false: not read, not fired.
    await meters.create(h.db.pool, { organizationId: h.orgA, slug: 'pending', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
    const pending = await create(h.orgA, { customerId: customer.id, meter: 'pending', quantity: '1' });
    const pendingVersion = (await meters.get(h.db.pool, { organizationId: h.orgA, slug: 'pending' })).currentVersion.id;
    await insertUsage(usage.clickhouse, h.orgA, pendingVersion, calls(subject, 2, new Date('2026-01-05T00:00:00Z')));
    await evaluateThresholds(deps, MID_JAN);
    expect(await withOrg(h.db.pool, h.orgA, (tx) => thresholdFirings.list(tx, { organizationId: h.orgA, thresholdId: pending.id }))).toEqual([]);
    // Once ready (its backfill completed), the next evaluation fires it.
    await readyMeter(h.db.pool, h.orgA, 'pending');
    await evaluateThresholds(deps, MID_JAN);
    expect(await withOrg(h.db.pool, h.orgA, (tx) => thresholdFirings.list(tx, { organizationId: h.orgA, thresholdId: pending.id }))).toHaveLength(1);
  });
});
