import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eventually } from './support/http';
import { meterData, meterEvent, pick, seededRandom, sendAll } from './support/meter-events';
import { createMeter, usageOf, type MeterInput } from './support/meters';
import { comparable, expectedUsage } from './support/meters-expected';
import { collectorUrl, gatewayUrl } from './support/ports';
import { createTenant } from './support/tenants';

/**
 * The promise to a new user: send events, then define a meter, and the right numbers are there
 * through the API within a minute. Measured from createMeter to the first answer that is complete
 * and exact, and printed; the poll itself waits longer, so a slow run reports how slow it was.
 */

const PROMISE_MS = 60_000;
const DAY = 86_400_000;
const TYPE = 'onboarding.request';

describe('a new user: events first, then a meter', () => {
  it('shows the right totals through GraphQL within 60 s of creating the meter', { timeout: 150_000 }, async () => {
    const tenant = await createTenant(['events:write', 'usage:read', 'meters:write']);
    const random = seededRandom(20261127);
    const now = Date.now();
    const events = Array.from({ length: 600 }, () =>
      meterEvent({ type: TYPE, subject: pick(random, ['acme', 'globex']), timeMs: now - Math.floor(random() * 2 * DAY), dataJson: meterData(random) }),
    );
    const sentAt = Date.now();
    await sendAll(collectorUrl, tenant.apiKey, events);

    const meter: MeterInput = { slug: 'requests', name: 'Tokens per model', eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] };
    const createdAt = Date.now();
    await createMeter(gatewayUrl, tenant.apiKey, meter);
    const args = { metric: meter.slug, from: new Date(Math.floor((now - 3 * DAY) / 60_000) * 60_000).toISOString(), to: new Date(Math.ceil((now + DAY) / 60_000) * 60_000).toISOString(), groupBy: ['subject'] };
    const expected = expectedUsage(events, { eventType: TYPE, aggregation: 'SUM', valuePath: '$.tokens', dimensions: meter.dimensions ?? [] }, args);

    // Complete and exact: the backfill is in, and so is every event still on its way to the store.
    let last: unknown;
    const exactAt = await eventually(
      async () => {
        const answer = await usageOf(gatewayUrl, tenant.apiKey, args);
        last = { complete: answer.complete, ...comparable(answer) };
        return answer.complete && isDeepStrictEqual(comparable(answer), expected) ? Date.now() : undefined;
      },
      'the meter to answer completely and exactly',
      2 * PROMISE_MS,
      250,
    ).catch((err: unknown) => {
      expect(last, String(err)).toEqual({ complete: true, ...expected });
      throw err;
    });
    console.log(`meters-new-user: exact totals ${exactAt - createdAt} ms after createMeter (${exactAt - sentAt} ms after the first event was sent)`);
    expect(exactAt - createdAt).toBeLessThanOrEqual(PROMISE_MS);
  });
});
