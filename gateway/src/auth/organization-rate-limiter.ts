import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { PolarisError } from '@polaris/shared/errors';
import { RedisAvailability } from '@polaris/shared/rate-limit';
import type { Logger } from '@polaris/shared/service';

/** The average is kept over windows this long, so a dashboard may spend a few seconds' worth at once. */
export const SUSTAINED_WINDOW_SECONDS = 10;

export interface RequestRateLimit {
  /** Requests per second on average (over SUSTAINED_WINDOW_SECONDS). */
  perSecond: number;
  /** The most requests in any one second (at least perSecond). */
  burst: number;
}

/** 429: the organization is over its request rate; `retryAfterMs` says when a retry would pass. */
export class RequestRateLimited extends PolarisError {
  constructor(readonly retryAfterMs: number, limit: RequestRateLimit) {
    super(
      'rate_limited',
      'rate_limited',
      `your organization may make ${limit.perSecond} requests per second (at most ${limit.burst} in one second): retry after ${Math.ceil(retryAfterMs / 1000)} s`,
    );
  }
}

/**
 * Per-organization GraphQL request limits, counted in Redis with rate-limiter-flexible so every
 * gateway replica shares one count: two fixed windows that must both admit a request (at most
 * `burst` in one second, at most `perSecond × SUSTAINED_WINDOW_SECONDS` over the longer window),
 * as the collector counts events. A refused request is given back, so a client that waits as told
 * (Retry-After) gets through on time.
 *
 * Redis down: requests pass uncounted for `redisGraceMs` from the moment it went away (a short
 * failover must not take the API down), then get 503 `rate_limiter_unavailable` until it is back,
 * as at the collector (@polaris/shared/rate-limit's RedisAvailability measures the outage).
 */
export class OrganizationRateLimiter {
  private readonly second: RateLimiterRedis;
  private readonly sustained: RateLimiterRedis;
  private readonly decisions: Counter<'outcome'>;
  private readonly availability: RedisAvailability;

  constructor(
    redis: Redis,
    private readonly opts: { limit: RequestRateLimit; redisGraceMs: number },
    logger: Logger,
    registry: Registry,
    now: () => number = Date.now,
  ) {
    const common = { storeClient: redis, rejectIfRedisNotReady: true };
    this.second = new RateLimiterRedis({ ...common, keyPrefix: 'polaris:gateway:1s', points: opts.limit.burst, duration: 1 });
    this.sustained = new RateLimiterRedis({
      ...common,
      keyPrefix: `polaris:gateway:${SUSTAINED_WINDOW_SECONDS}s`,
      points: opts.limit.perSecond * SUSTAINED_WINDOW_SECONDS,
      duration: SUSTAINED_WINDOW_SECONDS,
    });
    this.decisions = new Counter({
      name: 'gateway_rate_limit_requests_total',
      help: 'GraphQL requests by rate-limit outcome: allowed, limited (429), fail_open (Redis unreachable, let through uncounted), unavailable (Redis unreachable past the grace, 503)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.availability = new RedisAvailability(redis, logger, registry, { gaugeName: 'gateway_rate_limit_redis_up', now });
  }

  /** Counts one request of the organization; throws RequestRateLimited (429) or unavailable (503). */
  async consume(organizationId: string): Promise<void> {
    const answers = await Promise.allSettled([this.second.consume(organizationId), this.sustained.consume(organizationId)]);
    const failure = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected' && !(a.reason instanceof RateLimiterRes));
    if (failure) return this.redisFailed(failure.reason);
    this.availability.answered();
    const over = answers.filter((a): a is PromiseRejectedResult => a.status === 'rejected').map((a) => a.reason as RateLimiterRes);
    if (over.length === 0) {
      this.decisions.inc({ outcome: 'allowed' });
      return;
    }
    // Given back in both windows: a refused request must not use up the allowance of the next ones.
    await Promise.allSettled([this.second.reward(organizationId, 1), this.sustained.reward(organizationId, 1)]);
    this.decisions.inc({ outcome: 'limited' });
    throw new RequestRateLimited(Math.max(1, ...over.map((r) => r.msBeforeNext)), this.opts.limit);
  }

  /** For /readyz (not critical: requests pass within the grace). */
  ping(): Promise<void> {
    return this.availability.ping();
  }

  close(): Promise<void> {
    return this.availability.close();
  }

  private redisFailed(reason: unknown): void {
    const downForMs = this.availability.failed(reason);
    if (downForMs <= this.opts.redisGraceMs) {
      this.decisions.inc({ outcome: 'fail_open' });
      return;
    }
    this.decisions.inc({ outcome: 'unavailable' });
    throw new PolarisError(
      'unavailable',
      'rate_limiter_unavailable',
      `the rate limiter's Redis has been unreachable for ${Math.round(downForMs / 1000)} s (past RATE_LIMIT_REDIS_GRACE_MS); retry with backoff`,
    );
  }
}
