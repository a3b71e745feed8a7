import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@polaris/shared/config';
import { createInternalAuth } from '@polaris/shared/grpc';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { eventually } from '@polaris/shared/testing';
import { meters, organizations } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { z } from 'zod';
import { subscribedCustomer } from '../test-support/billing-catalog';
import { insertUsage, readyMeter, startUsageServer, type UsageServer } from '../test-support/usage-server';
import { InvoiceRater } from './invoice-rater';
import { RatingJobs } from './rating-jobs';
import { createRatingMetrics } from './rating-metrics';
import { RATING_JOBS } from './rating-queue';
import { connectUsage } from './usage-client';
import { UsageReader } from './usage-reader';

// The BullMQ side over the local stack's Redis (a key prefix of its own per run): the scan
// scheduler finds due periods, rate-period jobs open and compute them, finalize jobs freeze
// them, two replicas make one schedule and one invoice per period, and a job that keeps failing
// stays in the failed set with the draft's rating_error.

const logger = createLogger('it-rating-jobs', 'silent');
const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
const { REDIS_URL } = loadConfig(z.object({ REDIS_URL: z.string().default('redis://127.0.0.1:56379') }));
const PRICES = [
  { key: 'platform', name: 'Platform', model: 'FLAT', amount: '10' },
  { key: 'api_calls', name: 'API calls', model: 'PER_UNIT', meterSlug: 'api_calls', unitPrice: '0.5' },
];

describe('rating jobs', () => {
  let pg: ThrowawayPostgres;
  let usage: UsageServer;
  let usageClient: ReturnType<typeof connectUsage>;
  let org: string;
  const replicas: RatingJobs[] = [];
  const registries: Array<ReturnType<typeof createMetricsRegistry>> = [];
  const prefix = `it-rating-${randomBytes(4).toString('hex')}`;

  function replica(name: string): RatingJobs {
    // As the service runs: the app role, under row-level security.
    const jobs = new RatingJobs({
      pool: pg.appPool,
      logger,
      settings: { redisUrl: REDIS_URL, concurrency: 4, attempts: 2, backoffMs: 100, scanIntervalMs: 1_000, settleMs: 0, prefix },
    });
    const registry = createMetricsRegistry(`it-${name}`);
    registries.push(registry);
    const metrics = createRatingMetrics(registry, jobs.queue);
    const rater = new InvoiceRater({
      pool: pg.appPool,
      usage: new UsageReader(usageClient.queryMeter),
      instanceId: `replica-${name}`,
      settings: { claimTtlMs: 60_000, settleMs: 0, graceMs: 0, lateLookbackMs: 35 * 86_400_000 },
      logger,
      observer: metrics,
    });
    jobs.start(rater, metrics);
    replicas.push(jobs);
    return jobs;
  }

  beforeAll(async () => {
    pg = await throwawayPostgres({ poolMax: 10 });
    usage = await startUsageServer(pg.pool, secret);
    usageClient = connectUsage(usage.addr, createInternalAuth(secret, 'rating-worker'), 10_000);
    org = (await organizations.create(pg.pool, { name: 'Jobs', slug: `jobs-${randomBytes(3).toString('hex')}` })).id;
    await meters.create(pg.pool, { organizationId: org, slug: 'api_calls', definition: { eventType: 'api.call', aggregation: 'SUM', valuePath: '$.n', dimensions: [] } });
    await meters.create(pg.pool, { organizationId: org, slug: 'pending', definition: { eventType: 'api.call', aggregation: 'SUM', valuePath: '$.n', dimensions: [] } });
    const versionId = await readyMeter(pg.pool, org, 'api_calls');
    await insertUsage(usage.clickhouse, org, versionId, [
      { subject: 'job-1', at: new Date('2026-08-10T00:00:00Z'), value: '4' },
      { subject: 'job-1', at: new Date('2026-09-10T00:00:00Z'), value: '6' },
    ]);
  });

  afterAll(async () => {
    for (const jobs of replicas) {
      await jobs.queue.obliterate({ force: true }).catch(() => undefined);
      await jobs.stop();
    }
    usageClient?.close();
    await usage?.stop();
    await pg?.drop();
  });

  it('rates and finalizes every due period once, with two replicas and one schedule', async () => {
    const sub = await subscribedCustomer(pg.pool, { organizationId: org, prices: PRICES, subjects: ['job-1'], startAt: new Date('2026-08-01T00:00:00Z') });
    const failing = await subscribedCustomer(pg.pool, {
      organizationId: org,
      prices: [{ key: 'pending', name: 'Pending', model: 'PER_UNIT', meterSlug: 'pending', unitPrice: '1' }],
      subjects: ['job-2'],
      startAt: new Date('2026-10-01T00:00:00Z'),
    });
    const a = replica('a');
    replica('b');

    // August to October are due (it is later than November 1st): three invoices, finalized.
    const invoices = await eventually(
      async () => {
        const { rows } = await pg.pool.query<{ period_start: Date; status: string; number: string | null; total: string | null }>(
          'SELECT period_start, status, number, total::text AS total FROM invoices WHERE subscription_id = $1 ORDER BY period_start',
          [sub.subscription.id],
        );
        return rows.length === 3 && rows.every((r) => r.status === 'finalized') ? rows : undefined;
      },
      'three finalized invoices',
      60_000,
    );
    expect(invoices.map((r) => [r.period_start.toISOString().slice(0, 7), r.total])).toEqual([
      ['2026-08', '12.00'],
      ['2026-09', '13.00'],
      ['2026-10', '10.00'],
    ]);
    expect(new Set(invoices.map((r) => r.number)).size).toBe(3);
    expect(await a.queue.getJobSchedulers()).toHaveLength(1);

    const done = await a.queue.getJobs(['completed']);
    const rateIds = done.filter((j) => j.name === RATING_JOBS.ratePeriod && j.data.subscriptionId === sub.subscription.id).map((j) => j.id);
    expect(rateIds.sort()).toEqual(
      ['2026-08-01', '2026-09-01', '2026-10-01'].map((d) => `rate.${sub.subscription.id}.${new Date(`${d}T00:00:00Z`).getTime()}`).sort(),
    );

    // The period on a meter still backfilling: attempts exhausted, the job stays failed, the draft says why.
    const failed = await eventually(async () => {
      const jobs = await a.queue.getJobs(['failed']);
      return jobs.find((j) => j.name === RATING_JOBS.ratePeriod && j.data.subscriptionId === failing.subscription.id && j.attemptsMade >= 2);
    }, 'an exhausted rate-period job');
    expect(failed.failedReason).toMatch(/still backfilling/);
    const { rows } = await pg.pool.query('SELECT status, rating_error FROM invoices WHERE subscription_id = $1', [failing.subscription.id]);
    expect(rows).toEqual([{ status: 'draft', rating_error: expect.stringMatching(/^usage_incomplete: /) }]);

    const metric = async (name: string) => (await Promise.all(registries.map((r) => r.getSingleMetricAsString(name)))).join('\n');
    expect(await metric('rating_jobs_total')).toMatch(/rating_jobs_total\{name="rate-period",outcome="failed"[^}]*\} [1-9]/);
    expect(await metric('rating_errors_total')).toMatch(/code="usage_incomplete"/);
    expect(await metric('rating_invoices_computed_total')).toMatch(/rating_invoices_computed_total\{[^}]*\} [1-9]/);
  });
});
