import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { privateRedis, type PrivateRedis } from '@polaris/shared/testing';
import { cloudEvent, eventually } from './support/http';
import { E2E_PORTS } from './support/ports';
import { storedEvents } from './support/events-store';
import { freePort, hasExited, metric, readyz, repoRoot, serviceOf, startPrivate } from './support/private-services';
import { createTenant, type Tenant } from './support/tenants';
import { groupReached, topicEnds } from './support/topics';

/**
 * README, "Rate limits and time rules": per-organization limits counted in events in Redis, set
 * from the CLI (`polaris org limits`), answered 429 with Retry-After and RateLimit-*; while Redis
 * is unreachable the collector fails open for RATE_LIMIT_REDIS_GRACE_MS, then answers 503; the
 * backdating limit (35 days by default). A collector of its own, with the default time rules, on
 * a redis-server of its own (the stack's Redis is shared: stopping it would break other tests),
 * validating keys against the suite's Identity, publishing into the suite's pipeline.
 */

const GRACE_MS = 3_000;
/** How soon a limit set with the CLI reaches the collector: its key cache. */
const KEY_CACHE_MS = 500;
const DAY = 86_400_000;

let redis: PrivateRedis;
let system: RunningSystem | undefined;
let url: string;
let opsPort: number;
let tenant: Tenant;
/** Every id a 202 accepted, and every id refused: what ClickHouse must (not) hold at the end. */
const accepted = new Set<string>();
const refused = new Set<string>();

const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli', 'src', 'main.ts'), ...args], { cwd: repoRoot });

async function send(count: number, overrides: Record<string, unknown> = {}) {
  const events = Array.from({ length: count }, () => cloudEvent(overrides));
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json', 'x-api-key': tenant.apiKey },
    body: JSON.stringify(events),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as { accepted?: number; error?: { code: string; field?: string; message: string } };
  for (const e of events) (res.status === 202 ? accepted : refused).add(e.id);
  return { status: res.status, headers: res.headers, body };
}

beforeAll(async () => {
  redis = await privateRedis();
  tenant = await createTenant();
  const httpPort = await freePort();
  url = `http://127.0.0.1:${httpPort}`;
  opsPort = await freePort();
  system = await startPrivate('rate-limits', [
    {
      name: 'collector',
      opsPort,
      env: {
        HTTP_PORT: String(httpPort),
        GRPC_PORT: String(await freePort()),
        IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
        REDIS_URL: redis.url,
        RATE_LIMIT_REDIS_GRACE_MS: String(GRACE_MS),
        API_KEY_CACHE_TTL_MS: String(KEY_CACHE_MS),
      },
    },
  ]);
}, 90_000);

afterAll(async () => {
  await system?.stop();
  await redis?.stop();
});

describe('per-organization rate limits', () => {
  it('`polaris org limits` sets 100/s with bursts of 200: 200 events pass with RateLimit headers, the next one is 429 with Retry-After', async () => {
    // Set before the organization's first request: the collector learns it with the key.
    const { stdout } = await cli('org', 'limits', tenant.orgId, '--events-per-second', '100', '--burst', '200');
    expect(stdout).toContain('100 events per second, bursts of up to 200 in one second');
    const full = await send(200);
    expect(full.status).toBe(202);
    expect(full.headers.get('ratelimit-limit')).toBe('200');
    expect(full.headers.get('ratelimit-remaining')).toBe('0');

    const over = await send(1);
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({ code: 'rate_limited' });
    expect(over.body.error?.message).toMatch(/100 events per second \(at most 200 in one second\)/);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(over.headers.get('ratelimit-limit')).toBe('200');
    expect(over.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(over.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(await metric(opsPort, 'collector_rate_limit_requests_total', { outcome: 'limited' })).toBeGreaterThanOrEqual(1);
  });

  it('a batch larger than the limit ever admits is 413, not a 429 to retry forever', async () => {
    const res = await send(201);
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'batch_exceeds_rate_limit', field: 'body' });
  });

  it('after `--clear` the default applies again: a batch of 1,000 passes', async () => {
    await cli('org', 'limits', tenant.orgId, '--clear');
    // 413 (not counted) until the collector revalidates the key, within API_KEY_CACHE_TTL_MS.
    const res = await eventually(async () => {
      const answer = await send(1_000);
      return answer.status === 202 ? answer : undefined;
    }, 'the default limit to apply again', 20_000, KEY_CACHE_MS);
    expect(res.headers.get('ratelimit-limit')).toBe('20000');
  });
});

describe('Redis unreachable', () => {
  it(`fails open for RATE_LIMIT_REDIS_GRACE_MS (${GRACE_MS} ms), then refuses with 503 while the collector stays up and ready; counts again once Redis is back`, async () => {
    const failOpenBefore = await metric(opsPort, 'collector_rate_limit_requests_total', { outcome: 'fail_open' });
    await redis.stop();
    const stoppedAt = Date.now();
    await eventually(async () => ((await metric(opsPort, 'collector_rate_limit_redis_up')) === 0 ? true : undefined), 'the collector to notice Redis is gone');

    const during = await send(5);
    expect(Date.now() - stoppedAt).toBeLessThan(GRACE_MS);
    expect(during.status).toBe(202);
    expect(during.headers.get('ratelimit-limit')).toBeNull();
    expect(await metric(opsPort, 'collector_rate_limit_requests_total', { outcome: 'fail_open' })).toBeGreaterThan(failOpenBefore);

    const refusal = await eventually(async () => {
      const res = await send(1);
      return res.status === 503 ? res : undefined;
    }, 'a 503 once the grace is over', GRACE_MS + 10_000, 250);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(refusal.body.error).toMatchObject({ code: 'rate_limiter_unavailable' });
    expect(await metric(opsPort, 'collector_rate_limit_requests_total', { outcome: 'unavailable' })).toBeGreaterThanOrEqual(1);
    // Still up, and still ready (Redis is not critical): its readiness says why counting stopped.
    expect(hasExited(serviceOf(system, 'collector'))).toBe(false);
    const ready = await readyz(opsPort);
    expect(ready.status).toBe(200);
    expect(ready.body.checks?.find((c) => c.name === 'rate-limit-redis')).toMatchObject({ ok: false, critical: false });

    await redis.start();
    const back = await eventually(async () => {
      const res = await send(1);
      return res.status === 202 ? res : undefined;
    }, 'events to be counted again once Redis is back', 20_000, 250);
    expect(back.headers.get('ratelimit-limit')).toBe('20000');
    expect(await metric(opsPort, 'collector_rate_limit_redis_up')).toBe(1);
  }, 60_000);
});

describe('time rules (defaults)', () => {
  it('accepts an event 34 days old, refuses one 36 days old naming its index and time', async () => {
    expect((await send(1, { time: new Date(Date.now() - 34 * DAY).toISOString() })).status).toBe(202);
    const old = await send(1, { time: new Date(Date.now() - 36 * DAY).toISOString() });
    expect(old.status).toBe(400);
    expect(old.body.error).toMatchObject({ code: 'invalid_event', field: '[0].time', message: '[0].time: is more than 35 days in the past; events older than that are not accepted' });
  });
});

describe('what was stored', () => {
  it('every accepted event, once; none of the refused ones', async () => {
    await eventually(async () => ((await storedEvents(tenant.orgId)).length >= accepted.size ? true : undefined), `all ${accepted.size} accepted events to be stored`, 60_000);
    const ends = await topicEnds(EVENTS_TOPIC);
    await eventually(() => groupReached('polaris-sink', EVENTS_TOPIC, ends), 'the sink to consume everything');
    const ids = (await storedEvents(tenant.orgId)).map((e) => e.id);
    expect(ids).toHaveLength(accepted.size);
    expect(new Set(ids)).toEqual(accepted);
    expect(ids.filter((id) => refused.has(id))).toEqual([]);
  });
});
