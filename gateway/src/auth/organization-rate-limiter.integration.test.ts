import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createRateLimitRedis } from '@polaris/shared/rate-limit';
import { createLogger } from '@polaris/shared/service';
import { eventually, privateRedis, type PrivateRedis } from '@polaris/shared/testing';
import { OrganizationRateLimiter, RequestRateLimited } from './organization-rate-limiter';

// Against a redis-server of this test's own, so it can be stopped without touching anyone else's.
const logger = createLogger('it-gateway-rate-limit', 'silent');

describe('OrganizationRateLimiter over Redis', () => {
  let redis: PrivateRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await privateRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  async function limiter(limit: { perSecond: number; burst: number }, redisGraceMs = 60_000) {
    const client = createRateLimitRedis(redis.url);
    clients.push(client);
    await eventually(async () => (client.status === 'ready' ? true : undefined), 'the Redis client to connect');
    const registry = new Registry();
    const made = new OrganizationRateLimiter(client, { limit, redisGraceMs }, logger, registry);
    const outcomes = async () => Object.fromEntries(((await registry.getSingleMetric('gateway_rate_limit_requests_total')?.get())?.values ?? []).map((v) => [v.labels.outcome, v.value]));
    return { made, client, outcomes };
  }

  it('admits the burst in one second, then refuses with a retry hint; each organization has its own count', async () => {
    const { made, outcomes } = await limiter({ perSecond: 5, burst: 5 });
    const org = randomUUID();
    for (let i = 0; i < 5; i++) await made.consume(org);
    const refused = await made.consume(org).then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(RequestRateLimited);
    expect(refused).toMatchObject({ kind: 'rate_limited', code: 'rate_limited' });
    expect((refused as RequestRateLimited).retryAfterMs).toBeGreaterThan(0);
    expect((refused as RequestRateLimited).retryAfterMs).toBeLessThanOrEqual(10_000);
    await expect(made.consume(randomUUID())).resolves.toBeUndefined();
    expect(await outcomes()).toEqual({ allowed: 6, limited: 1 });
  });

  it('far from the limit, admits without waiting for Redis, and still counts every request there', async () => {
    const { made, client } = await limiter({ perSecond: 100, burst: 100 });
    const org = randomUUID();
    await made.consume(org);
    // Redis answers nothing for a while: a request admitted on the headroom does not wait for it.
    const pauser = createRateLimitRedis(redis.url);
    clients.push(pauser);
    await eventually(async () => (pauser.status === 'ready' ? true : undefined), 'the pausing client to connect');
    await pauser.call('CLIENT', 'PAUSE', '400');
    const started = performance.now();
    for (let i = 0; i < 9; i++) await made.consume(org);
    expect(performance.now() - started).toBeLessThan(200);
    await eventually(async () => (Number(await client.get(`polaris:gateway:1s:${org}`)) === 10 ? true : undefined), 'every request to be counted', 5_000, 20);
  });

  it('near the limit every request waits for its count: the burst exactly, then refusals', async () => {
    const { made, client, outcomes } = await limiter({ perSecond: 20, burst: 20 });
    const org = randomUUID();
    for (let i = 0; i < 20; i++) await made.consume(org);
    await expect(made.consume(org)).rejects.toBeInstanceOf(RequestRateLimited);
    expect(Number(await client.get(`polaris:gateway:1s:${org}`))).toBe(20);
    expect(await outcomes()).toEqual({ allowed: 20, limited: 1 });
  });

  it('gives a refused request back: after waiting as told, the next one passes', async () => {
    const { made, client } = await limiter({ perSecond: 100, burst: 2 });
    const org = randomUUID();
    await made.consume(org);
    await made.consume(org);
    for (let i = 0; i < 3; i++) await expect(made.consume(org)).rejects.toBeInstanceOf(RequestRateLimited);
    await eventually(async () => ((await client.exists(`polaris:gateway:1s:${org}`)) === 0 ? true : undefined), 'the one-second window to roll over', 5_000, 20);
    await expect(made.consume(org)).resolves.toBeUndefined();
  });

  it('Redis stopped: requests pass uncounted for the grace, then 503; counted again once it is back', async () => {
    const { made, client, outcomes } = await limiter({ perSecond: 100, burst: 100 }, 1_000);
    const org = randomUUID();
    await made.consume(org);
    await redis.stop();
    await eventually(async () => (client.status !== 'ready' ? true : undefined), 'the client to notice Redis is gone');
    await expect(made.consume(org)).resolves.toBeUndefined();
    const refused = await eventually(async () => made.consume(org).then(() => undefined, (err: unknown) => err), 'a refusal once the grace is over', 10_000, 100);
    expect(refused).toMatchObject({ kind: 'unavailable', code: 'rate_limiter_unavailable' });
    expect((await outcomes()).fail_open).toBeGreaterThanOrEqual(1);
    await redis.start();
    await eventually(async () => (client.status === 'ready' ? true : undefined), 'the client to reconnect', 15_000);
    await expect(made.consume(org)).resolves.toBeUndefined();
    await expect(made.ping()).resolves.toBeUndefined();
  }, 30_000);
});
