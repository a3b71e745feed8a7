import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { PolarisError } from '@polaris/shared/errors';
import { createLogger } from '@polaris/shared/service';
import { eventually, privateRedis, type PrivateRedis } from '@polaris/shared/testing';
import { EventRateLimiter, EventRateLimitExceeded, SUSTAINED_WINDOW_SECONDS, type EventRateLimit } from './event-rate-limiter';
import { createRateLimitRedis } from '@polaris/shared/rate-limit';

// Against a redis-server of this test's own (the stack's Redis is shared: stopping it would break
// other tests), with the client options the collector uses.

const logger = createLogger('it-rate-limit', 'silent');

function limiterOn(redis: PrivateRedis, opts: { defaultLimit?: EventRateLimit; redisGraceMs?: number } = {}) {
  const client = createRateLimitRedis(redis.url);
  const registry = new Registry();
  const limiter = new EventRateLimiter(client, { defaultLimit: opts.defaultLimit, redisGraceMs: opts.redisGraceMs ?? 60_000 }, logger, registry);
  const outcomes = async () => Object.fromEntries(((await registry.getSingleMetric('collector_rate_limit_requests_total')?.get())?.values ?? []).map((v) => [v.labels.outcome, v.value]));
  return { client, limiter, outcomes };
}

/** Lua script runs the server has answered (rate-limiter-flexible counts with one per window). */
async function scriptCalls(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

async function refusal(p: Promise<unknown>): Promise<PolarisError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PolarisError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('EventRateLimiter over Redis', () => {
  let redis: PrivateRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await privateRedis();
  });

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  const ready = async (opts?: Parameters<typeof limiterOn>[1]) => {
    const made = limiterOn(redis, opts);
    clients.push(made.client);
    await eventually(async () => (made.client.status === 'ready' ? true : undefined), 'the Redis client to connect');
    return made;
  };

  it('counts events, not requests: with a burst of 1,000, one batch of 1,000 passes and the next event is refused', async () => {
    const { limiter, outcomes } = await ready();
    const org = randomUUID();
    const limit = { eventsPerSecond: 500, burst: 1_000 };
    // Far from a second's end, so the two calls fall in one window.
    const headers = await limiter.consume(org, 1_000, limit);
    expect(headers).toMatchObject({ 'ratelimit-limit': '1000', 'ratelimit-remaining': '0' });
    const err = await refusal(limiter.consume(org, 1, limit));
    expect(err).toBeInstanceOf(EventRateLimitExceeded);
    expect(err).toMatchObject({ kind: 'rate_limited', code: 'rate_limited' });
    const { headers: refused } = err as EventRateLimitExceeded;
    expect(Number(refused['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused).toMatchObject({ 'ratelimit-limit': '1000', 'ratelimit-remaining': '0' });
    expect(await outcomes()).toEqual({ allowed: 1, limited: 1 });
    // Another organization has its own count.
    expect(await limiter.consume(randomUUID(), 1_000, limit)).toBeDefined();
  });

  it('gives refused events back: a refused batch of 600 leaves room for 400 in the same second', async () => {
    const { limiter } = await ready();
    const org = randomUUID();
    const limit = { eventsPerSecond: 1_000, burst: 1_000 };
    await limiter.consume(org, 500, limit);
    await expect(limiter.consume(org, 600, limit)).rejects.toBeInstanceOf(EventRateLimitExceeded);
    expect(await limiter.consume(org, 500, limit)).toMatchObject({ 'ratelimit-remaining': '0' });
  });

  it(`keeps the average: the burst once, then no more than the rate × ${SUSTAINED_WINDOW_SECONDS} s over the window`, async () => {
    const { client, limiter } = await ready();
    const org = randomUUID();
    const limit = { eventsPerSecond: 10, burst: 80 };
    await limiter.consume(org, 80, limit);
    // A new second: the burst window admits 80 again, the sustained one only the 20 left of its 100.
    // The one-second window has rolled over once its Redis count has expired.
    expect(await client.exists(`polaris:events:1s:${org}`)).toBe(1);
    await eventually(async () => ((await client.exists(`polaris:events:1s:${org}`)) === 0 ? true : undefined), 'the one-second window to roll over', 5_000, 20);
    const err = (await refusal(limiter.consume(org, 30, limit))) as EventRateLimitExceeded;
    expect(err.headers).toMatchObject({ 'ratelimit-limit': String(10 * SUSTAINED_WINDOW_SECONDS), 'ratelimit-remaining': '20' });
    expect(Number(err.headers['retry-after'])).toBeGreaterThan(1);
    expect(await limiter.consume(org, 20, limit)).toMatchObject({ 'ratelimit-remaining': '0' });
  });

  it('counts the requests of one organization arriving together with one Redis call per window', async () => {
    const { limiter, client, outcomes } = await ready();
    const org = randomUUID();
    const limit = { eventsPerSecond: 1_000, burst: 1_000 };
    await limiter.consume(org, 1, limit); // the scripts are loaded
    await client.config('RESETSTAT');
    const answers = await Promise.all(Array.from({ length: 20 }, () => limiter.consume(org, 10, limit)));
    expect(await scriptCalls(client)).toBe(2);
    // Each answer says what is left once the whole group is counted.
    for (const headers of answers) expect(headers).toMatchObject({ 'ratelimit-limit': '1000', 'ratelimit-remaining': '799' });
    expect(await outcomes()).toEqual({ allowed: 21 });
  });

  it('gathers the requests arriving while a count waits for Redis into the next group', async () => {
    const { limiter, client } = await ready();
    const org = randomUUID();
    const limit = { eventsPerSecond: 1_000, burst: 1_000 };
    await limiter.consume(org, 1, limit);
    await client.config('RESETSTAT');
    // Redis holds every command for 300 ms (under the 500 ms command timeout): the first count waits.
    const admin = new Redis(redis.url);
    await admin.client('PAUSE', 300, 'ALL');
    admin.disconnect();
    const first = limiter.consume(org, 1, limit);
    const later: Array<Promise<unknown>> = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      later.push(limiter.consume(org, 1, limit));
    }
    await Promise.all([first, ...later]);
    expect(await scriptCalls(client)).toBe(4);
  });

  it('admits the requests arriving together in order while they fit, as if each came alone: a refused one does not block a smaller one after it', async () => {
    const { limiter, outcomes } = await ready();
    const org = randomUUID();
    // 100 in the 10-second window too, so a second ending meanwhile changes nothing.
    const limit = { eventsPerSecond: 10, burst: 100 };
    const answers = await Promise.allSettled([40, 40, 40, 20].map((n) => limiter.consume(org, n, limit)));
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(answers[2]).toMatchObject({ status: 'rejected', reason: expect.any(EventRateLimitExceeded) });
    expect(await outcomes()).toEqual({ allowed: 3, limited: 1 });
    // The refused 40 were given back: 100 counted, nothing left.
    await expect(limiter.consume(org, 1, limit)).rejects.toBeInstanceOf(EventRateLimitExceeded);
  });

  it('refuses a request larger than the limit ever admits with 413, without counting it', async () => {
    const { limiter } = await ready();
    const err = await refusal(limiter.consume(randomUUID(), 101, { eventsPerSecond: 100, burst: 100 }));
    expect(err).toMatchObject({ kind: 'payload_too_large', code: 'batch_exceeds_rate_limit', field: 'body' });
  });

  it('uses the default for an organization without a limit of its own, and limits nobody without a default', async () => {
    const { limiter } = await ready({ defaultLimit: { eventsPerSecond: 5, burst: 5 } });
    const org = randomUUID();
    await limiter.consume(org, 5, undefined);
    await expect(limiter.consume(org, 1, undefined)).rejects.toBeInstanceOf(EventRateLimitExceeded);
    const { limiter: unlimited } = await ready();
    expect(await unlimited.consume(org, 1_000_000, undefined)).toBeUndefined();
  });

  it('Redis stopped: lets requests through uncounted for the grace, then refuses with 503; counts again once it is back', async () => {
    const graceMs = 1_500;
    const { limiter, client, outcomes } = await ready({ redisGraceMs: graceMs });
    const org = randomUUID();
    const limit = { eventsPerSecond: 1_000, burst: 1_000 };
    expect(await limiter.consume(org, 1, limit)).toBeDefined();

    await redis.stop();
    await eventually(async () => (client.status !== 'ready' ? true : undefined), 'the client to notice Redis is gone');
    const stoppedAt = Date.now();
    expect(await limiter.consume(org, 10, limit)).toBeUndefined();
    const refused = await eventually(async () => {
      try {
        await limiter.consume(org, 10, limit);
        return undefined;
      } catch (err) {
        return err;
      }
    }, 'a refusal once the grace is over', 10_000, 100);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(graceMs - 200);
    expect(refused).toMatchObject({ kind: 'unavailable', code: 'rate_limiter_unavailable' });
    const during = await outcomes();
    expect(during.fail_open).toBeGreaterThanOrEqual(1);
    expect(during.unavailable).toBe(1);

    await redis.start();
    await eventually(async () => (client.status === 'ready' ? true : undefined), 'the client to reconnect', 15_000);
    expect(await limiter.consume(org, 1, limit)).toMatchObject({ 'ratelimit-limit': '1000' });
    await expect(limiter.ping()).resolves.toBeUndefined();
  }, 30_000);
});
