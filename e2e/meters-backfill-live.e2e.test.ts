import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeterDefinition } from '@polaris/shared/meters';
import { eventually } from './support/http';
import { meterData, meterEvent, pick, postMeterEvents, seededRandom, sendAll, type MeterEvent } from './support/meter-events';
import { createMeter, dataOf, getMeter, graphqlAt, METER_FIELDS, usageOf, waitForBackfill, type MeterInput, type MeterView, type UsageArgs } from './support/meters';
import { comparable, expectedUsage } from './support/meters-expected';
import { laggingSink, startMeterSystem, type LaggingSink, type MeterSystem } from './support/meters-system';
import type { Tenant } from './support/tenants';

/**
 * docs/meters.md, "Catalog revisions, leases and backfill: never twice, never missed". Three days
 * of events are stored first; then meters of every aggregation are created over them while a
 * sender keeps sending events (now, and backdated into the same days). Whatever the backfill
 * counts, the live path must not, and the reverse: afterwards every answer of the API (totals,
 * day windows, groups by subject and dimension, filters, invalid counts) equals the answer
 * computed in the test from the events it sent.
 *
 * A private system (support/meters-system.ts) with backfill pages of 100 events, so each backfill
 * takes many pages while events keep arriving. A lagging sink (one that synced the catalog and
 * stopped) holds the backfills back at first: meanwhile the meters count live and answer
 * `complete: false`; once it catches up, the backfills run.
 *
 * Then a new version (a changed value path): the old version answers, and keeps counting, until
 * the new version's backfill completes; never a mix of the two.
 */

const DAY = 86_400_000;
const TYPE = 'llm.completion';
const SUBJECTS = ['cust-a', 'cust-b', 'cust-c'];
const BACKDATED = 1_200;
const SEED = Number(process.env.E2E_METERS_SEED ?? Date.now() % 1_000_000);
const DIMENSIONS = [{ name: 'model', path: '$.model' }];

const METERS: MeterInput[] = [
  { slug: 'tokens_sum', name: 'Tokens', eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'calls', name: 'Calls', eventType: TYPE, aggregation: 'COUNT', dimensions: DIMENSIONS },
  { slug: 'users', name: 'Users', eventType: TYPE, aggregation: 'UNIQUE_COUNT', uniquePath: '$.user', dimensions: DIMENSIONS },
  { slug: 'tokens_min', name: 'Min', eventType: TYPE, aggregation: 'MIN', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'tokens_max', name: 'Max', eventType: TYPE, aggregation: 'MAX', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'tokens_avg', name: 'Mean', eventType: TYPE, aggregation: 'AVG', valuePath: '$.tokens', dimensions: DIMENSIONS },
  { slug: 'tokens_latest', name: 'Latest', eventType: TYPE, aggregation: 'LATEST', valuePath: '$.tokens', dimensions: DIMENSIONS },
];

function definitionOf(input: MeterInput): MeterDefinition {
  return {
    eventType: input.eventType,
    aggregation: input.aggregation,
    ...(input.valuePath ? { valuePath: input.valuePath } : {}),
    ...(input.uniquePath ? { uniquePath: input.uniquePath } : {}),
    dimensions: input.dimensions ?? [],
  };
}

/** Keeps sending small batches (half now, half backdated into the three days) until stopped. */
function startSender(sys: MeterSystem, tenant: Tenant, random: () => number, day0: number) {
  const sent: Array<MeterEvent & { sentAt: number }> = [];
  const refused: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const batch = Array.from({ length: 10 }, () =>
        meterEvent({
          type: TYPE,
          subject: pick(random, SUBJECTS),
          timeMs: random() < 0.5 ? Date.now() - Math.floor(random() * 5_000) : day0 + Math.floor(random() * 3 * DAY),
          dataJson: meterData(random),
        }),
      );
      const status = await postMeterEvents(sys.collectorUrl, tenant.apiKey, batch);
      if (status === 202) sent.push(...batch.map((e) => ({ ...e, sentAt: Date.now() })));
      else refused.push(status);
      // A steady trickle (~100 events/s), not a flood: the point is interleaving, not load.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    sent,
    refused,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('meters: backfill, then live, no event counted twice or missed', () => {
  let sys: MeterSystem;
  let tenant: Tenant;
  let lagging: LaggingSink;
  const random = seededRandom(SEED);
  const events: MeterEvent[] = [];
  const today = Math.floor(Date.now() / DAY) * DAY;
  const day0 = today - 3 * DAY;
  // Through tomorrow's end: "now" events of a run that crosses midnight stay inside.
  const range = { from: new Date(day0).toISOString(), to: new Date(today + 2 * DAY).toISOString() };

  beforeAll(async () => {
    console.log(`meters-backfill-live: seed ${SEED} (E2E_METERS_SEED to replay)`);
    sys = await startMeterSystem({ label: 'meters-backfill', sinkEnv: { BACKFILL_PAGE_SIZE: '100' } });
    tenant = await sys.createTenant();
    lagging = laggingSink(sys.ratingWorkerAddr);
  });
  afterAll(async () => {
    lagging?.close();
    await sys?.stop();
  });

  /** Every question asked of each meter: the whole range, UTC days by subject and model, a filtered group. */
  const questions = (slug: string): UsageArgs[] => [
    { metric: slug, ...range },
    { metric: slug, ...range, windowSize: 'DAY', groupBy: ['subject', 'model'] },
    { metric: slug, ...range, groupBy: ['model'], subjects: ['cust-a', 'cust-b'], filters: [{ dimension: 'model', in: ['gpt', '', '7'] }] },
  ];

  async function expectExact(input: MeterInput, definition = definitionOf(input)): Promise<void> {
    for (const args of questions(input.slug)) {
      const answer = await usageOf(sys.gatewayUrl, tenant.apiKey, args);
      expect(answer.complete, `${input.slug} complete`).toBe(true);
      expect(comparable(answer), `${input.slug} ${JSON.stringify(args)}`).toEqual(expectedUsage(events, definition, args));
    }
  }

  it('counts three days of stored events by backfill and the events arriving meanwhile live: every answer equals the raw computation', { timeout: 150_000 }, async () => {
    // Three backdated days, some on the day boundaries, plus events of another type.
    const boundary = (i: number) => day0 + (1 + (i % 3)) * DAY - (i % 100 === 0 ? 1 : 0);
    const backdated = Array.from({ length: BACKDATED }, (_, i) =>
      meterEvent({
        type: TYPE,
        subject: pick(random, SUBJECTS),
        timeMs: i % 50 === 0 ? boundary(i) : day0 + Math.floor(random() * 3 * DAY),
        dataJson: meterData(random),
      }),
    );
    const others = Array.from({ length: 100 }, () => meterEvent({ type: 'llm.embedding', subject: 'cust-a', timeMs: day0 + Math.floor(random() * 3 * DAY), dataJson: meterData(random) }));
    await sendAll(sys.collectorUrl, tenant.apiKey, [...backdated, ...others]);
    events.push(...backdated, ...others);
    await eventually(() => sys.caughtUp(), 'the backdated events to be stored');

    const sender = startSender(sys, tenant, random, day0);
    try {
      // A sink that lags at this revision holds every backfill of the meters about to be made.
      await lagging.sync();
      const createdAt = Date.now();
      for (const input of METERS) {
        const meter = await createMeter(sys.gatewayUrl, tenant.apiKey, input);
        expect(meter).toMatchObject({ slug: input.slug, version: 1, pendingVersion: null, status: 'ACTIVE' });
      }
      // Held back: live counting has begun (events the sink stamped since it synced), the stored
      // history is not in yet, and the API says so.
      await eventually(async () => {
        const calls = await usageOf(sys.gatewayUrl, tenant.apiKey, { metric: 'calls', ...range });
        return Number(calls.total) > 0 ? true : undefined;
      }, 'the new meters to count arriving events live');
      for (const input of METERS) {
        const held = await usageOf(sys.gatewayUrl, tenant.apiKey, { metric: input.slug, ...range });
        expect(held.complete, `${input.slug} while its backfill waits`).toBe(false);
        expect((await getMeter(sys.gatewayUrl, tenant.apiKey, input.slug)).latestBackfill?.state).toBe('queued');
      }

      // The lagging sink catches up: the backfills run, page by page, while events keep coming.
      await lagging.sync();
      const done: MeterView[] = [];
      for (const input of METERS) done.push(await waitForBackfill(sys.gatewayUrl, tenant.apiKey, input.slug));
      const completedAt = Date.now();
      for (const meter of done) {
        // Every event stored before the meters existed went through the backfill, 100 per page.
        expect(Number(meter.latestBackfill?.eventsDone)).toBeGreaterThanOrEqual(BACKDATED);
      }
      const during = sender.sent.filter((e) => e.sentAt >= createdAt && e.sentAt <= completedAt).length;
      console.log(`meters-backfill-live: ${during} events accepted while the backfills were held and ran (${completedAt - createdAt} ms)`);
      expect(during).toBeGreaterThan(0);
    } finally {
      await sender.stop();
    }
    expect(sender.refused).toEqual([]);
    events.push(...sender.sent);
    await eventually(() => sys.caughtUp(), 'every event sent to be stored');

    for (const input of METERS) await expectExact(input);
  });

  it('a new version: the old one answers (and counts) until the new backfill completes, then the new numbers are exact', { timeout: 120_000 }, async () => {
    const old = METERS[0] as MeterInput;
    const next: MeterInput = { ...old, valuePath: '$.cost' };
    await lagging.sync();
    const updated = dataOf(
      await graphqlAt<{ updateMeter: MeterView }>(sys.gatewayUrl, tenant.apiKey, `mutation($slug: String!, $input: UpdateMeterInput!) { updateMeter(slug: $slug, input: $input) { ${METER_FIELDS} } }`, {
        slug: old.slug,
        input: { valuePath: '$.cost' },
      }),
      'updateMeter',
    ).updateMeter;
    expect(updated).toMatchObject({ version: 1, pendingVersion: 2, valuePath: '$.cost' });
    expect(updated.latestBackfill?.state).toBe('queued');

    // While version 2 waits, version 1 answers: complete, exact, and still counting new events.
    await expectExact(old);
    const more = Array.from({ length: 200 }, () =>
      meterEvent({ type: TYPE, subject: pick(random, SUBJECTS), timeMs: random() < 0.5 ? Date.now() : day0 + Math.floor(random() * 3 * DAY), dataJson: meterData(random) }),
    );
    await sendAll(sys.collectorUrl, tenant.apiKey, more);
    events.push(...more);
    await eventually(() => sys.caughtUp(), 'the events sent during the new version to be stored');
    await expectExact(old);
    expect(await getMeter(sys.gatewayUrl, tenant.apiKey, old.slug)).toMatchObject({ version: 1, pendingVersion: 2 });

    // Let it run; every answer meanwhile is exactly one version's, never a mix.
    const before = expectedUsage(events, definitionOf(old), { metric: old.slug, ...range });
    const after = expectedUsage(events, definitionOf(next), { metric: old.slug, ...range });
    expect(after.total).not.toBe(before.total);
    await lagging.sync();
    const seen = new Set<string>();
    await eventually(async () => {
      const answer = await usageOf(sys.gatewayUrl, tenant.apiKey, { metric: old.slug, ...range });
      const now = comparable(answer);
      if (isDeepStrictEqual(now, before)) {
        seen.add('old');
        return undefined;
      }
      expect(now, 'an answer while version 2 backfills').toEqual(after);
      seen.add('new');
      return answer.complete ? true : undefined;
    }, 'version 2 to answer');
    console.log(`meters-backfill-live: answers seen during the switch: ${[...seen].join(', ')}`);

    const meter = await waitForBackfill(sys.gatewayUrl, tenant.apiKey, old.slug);
    expect(meter).toMatchObject({ version: 2, pendingVersion: null, valuePath: '$.cost' });
    await expectExact(next);
  });
});
