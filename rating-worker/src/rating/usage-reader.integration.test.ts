import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addQuantity, canonicalDecimal } from '@polaris/shared/billing';
import { PolarisError } from '@polaris/shared/errors';
import { createInternalAuth } from '@polaris/shared/grpc';
import { meters, organizations } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import type { QueryMeterRequest } from '@polaris/proto';
import { insertUsage, readyMeter, startUsageServer, type UsageEvent, type UsageServer } from '../test-support/usage-server';
import { connectUsage } from './usage-client';
import { UsageReader, type QueryMeter, type UsageRequest } from './usage-reader';

// The usage reader against the sink-worker's real Usage service over ClickHouse: reads coalesced
// into grouped queries answer exactly what one query per customer answers, for every aggregation,
// with far fewer queries; nothing is ever read as 0 because a meter is still backfilling.

const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
const FROM = new Date('2026-01-01T00:00:00Z');
const TO = new Date('2026-02-01T00:00:00Z');
const DEFINITIONS = {
  total: { eventType: 'api.call', aggregation: 'SUM', valuePath: '$.value', dimensions: [] },
  calls: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] },
  low: { eventType: 'api.call', aggregation: 'MIN', valuePath: '$.value', dimensions: [] },
  high: { eventType: 'api.call', aggregation: 'MAX', valuePath: '$.value', dimensions: [] },
  users: { eventType: 'api.call', aggregation: 'UNIQUE_COUNT', uniquePath: '$.user', dimensions: [] },
  mean: { eventType: 'api.call', aggregation: 'AVG', valuePath: '$.value', dimensions: [] },
  last: { eventType: 'api.call', aggregation: 'LATEST', valuePath: '$.value', dimensions: [] },
} as const;
type Slug = keyof typeof DEFINITIONS;
const SLUGS = Object.keys(DEFINITIONS) as Slug[];

let pg: ThrowawayPostgres;
let usage: UsageServer;
let client: ReturnType<typeof connectUsage>;
let org: string;
/** 150 subjects with events (one of them far outside the period), and 5 without. */
const subjects = Array.from({ length: 155 }, (_, i) => `user-${String(i).padStart(3, '0')}`);
/** 40 customers of 1 to 4 subjects, one with none, one with 120. */
const customers: string[][] = [
  ...Array.from({ length: 40 }, (_, i) => subjects.slice(i * 3, i * 3 + 1 + (i % 4))),
  [],
  subjects.slice(20, 140),
];
const values = new Map<string, string[]>();

/** Counts what reaches the Usage service. */
function counted(queryMeter: QueryMeter): { queryMeter: QueryMeter; calls: QueryMeterRequest[] } {
  const calls: QueryMeterRequest[] = [];
  return { calls, queryMeter: (request) => (calls.push(request), queryMeter(request)) };
}

const request = (slug: Slug, customer: readonly string[]): UsageRequest => ({ organizationId: org, meterSlug: slug, subjects: customer, from: FROM, to: TO });

beforeAll(async () => {
  pg = await throwawayPostgres();
  usage = await startUsageServer(pg.pool, secret);
  client = connectUsage(usage.addr, createInternalAuth(secret, 'rating-worker'), 10_000);
  org = (await organizations.create(pg.pool, { name: 'Usage', slug: `usage-${randomBytes(3).toString('hex')}` })).id;
  for (const slug of SLUGS) {
    await meters.create(pg.pool, { organizationId: org, slug, definition: DEFINITIONS[slug] });
    const versionId = await readyMeter(pg.pool, org, slug);
    const events: Array<UsageEvent & { value: string }> = [];
    subjects.slice(0, 150).forEach((subject, i) => {
      for (let n = 0; n < 1 + (i % 3); n++) {
        const value = `${(i * 7 + n * 13) % 50}.${n}${i % 10}`;
        const negative = i % 11 === 0 && n === 0 ? `-${value}` : value;
        events.push({ subject, at: new Date(FROM.getTime() + (i * 3 + n) * 3_600_000), value: negative, uniqueKey: `s:u${(i + n) % 7}` });
      }
    });
    // Outside the period: never counted.
    events.push({ subject: subjects[0] ?? '', at: TO, value: '1000' });
    await insertUsage(usage.clickhouse, org, versionId, events);
    if (slug === 'total') {
      for (const e of events) if (e.at < TO) values.set(e.subject, [...(values.get(e.subject) ?? []), e.value]);
    }
  }
});

afterAll(async () => {
  client?.close();
  await usage?.stop();
  await pg?.drop();
});

describe('batched usage reads', () => {
  it.each(SLUGS)('%s: concurrent reads answer what one query per customer answers', async (slug) => {
    const batched = counted(client.queryMeter);
    const reader = new UsageReader(batched.queryMeter);
    const small = customers.filter((c) => c.length <= 100);
    const [got, alone] = await Promise.all([
      Promise.all(small.map((c) => reader.read(request(slug, c)))),
      // The unbatched reference: the meter's own answer for exactly the customer's subjects.
      Promise.all(
        small.map(async (c) => {
          if (c.length === 0) return '0';
          const res = await client.queryMeter({ ...request(slug, c), subjects: [...c], windowSize: 0, windowTimeZone: '', groupBy: [], dimensionFilters: [] });
          return res.rows[0]?.value ?? '0';
        }),
      ),
    ]);
    expect(got.map((g) => g.quantity)).toEqual(alone.map(canonicalDecimal));
    expect(new Set(got.map((g) => g.quantity)).size).toBeGreaterThan(2);
    const decomposable = ['total', 'calls', 'low', 'high'].includes(slug);
    const several = small.filter((c) => new Set(c).size > 1).length;
    // 41 customers (40 with subjects, 10 of them with one), 91 distinct subjects: one grouped
    // query. The others learn from it that they cannot be combined: a customer of one subject
    // takes its subject's value, the 30 of several subjects ask once each.
    expect(several).toBe(30);
    expect(batched.calls.length).toBe(decomposable ? 1 : 1 + several);
    expect(batched.calls.every((c) => c.organizationId === org)).toBe(true);
    if (decomposable) expect(batched.calls.every((c) => c.groupBy.includes('subject') && c.subjects.length <= 100)).toBe(true);

    // Once learnt, a meter that cannot be combined is read one query per customer of several
    // subjects, no grouping; the customers of one subject still share one grouped query.
    if (!decomposable) {
      const again = counted(client.queryMeter);
      const learnt = new UsageReader(again.queryMeter);
      await learnt.read(request(slug, customers[0] ?? []));
      const before = again.calls.length;
      const relearnt = await Promise.all(small.map((c) => learnt.read(request(slug, c))));
      expect(relearnt).toEqual(got);
      expect(again.calls.slice(before).map((c) => c.groupBy.length).sort()).toEqual([...Array.from({ length: several }, () => 0), 1]);
    }
  });

  it('splits a customer of more than 100 subjects for the decomposable aggregations, and refuses it for the others', async () => {
    const big = customers.at(-1) ?? [];
    const reader = new UsageReader(client.queryMeter);
    const expected = big.flatMap((s) => values.get(s) ?? []).reduce((sum, v) => addQuantity(sum, v), '0');
    expect((await reader.read(request('total', big))).quantity).toBe(expected);
    const err = await reader.read(request('mean', big)).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'failed_precondition', code: 'too_many_subjects', field: 'subjects' });
  });

  it('reads nothing for a customer without subjects, or an empty range', async () => {
    const none = counted(client.queryMeter);
    const reader = new UsageReader(none.queryMeter);
    expect(await reader.read(request('total', []))).toEqual({ quantity: '0' });
    expect(await reader.read({ ...request('total', ['user-001']), to: FROM })).toEqual({ quantity: '0' });
    expect(none.calls).toEqual([]);
  });

  it('never reads a meter still backfilling as 0: usage_incomplete, retryable', async () => {
    await meters.create(pg.pool, { organizationId: org, slug: 'fresh', definition: DEFINITIONS.total });
    const reader = new UsageReader(client.queryMeter);
    const err = await reader.read({ ...request('total', ['user-001']), meterSlug: 'fresh' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolarisError);
    expect(err).toMatchObject({ kind: 'unavailable', code: 'usage_incomplete', field: 'meter_slug' });
  });

  it("propagates the Usage service's refusals and outages", async () => {
    const reader = new UsageReader(client.queryMeter);
    const other = (await organizations.create(pg.pool, { name: 'Other', slug: `other-${randomBytes(3).toString('hex')}` })).id;
    expect(await reader.read({ ...request('total', ['user-001']), organizationId: other }).catch((e: unknown) => e)).toMatchObject({ code: 'meter_not_found' });
    const down = connectUsage('127.0.0.1:1', createInternalAuth(secret, 'rating-worker'), 1_000);
    try {
      expect(await new UsageReader(down.queryMeter).read(request('total', ['user-001'])).catch((e: unknown) => e)).toMatchObject({ kind: 'unavailable' });
    } finally {
      down.close();
    }
  });
});
