import { LRUCache } from 'lru-cache';
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

/**
 * What the last count in Redis said of an organization at this replica: the requests left in the
 * fuller of its two windows, until the first of them ends, and how many requests admitted since
 * are still being counted.
 */
interface Headroom {
  remaining: number;
  until: number;
  counting: number;
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
 *
 * Every request is counted in Redis, but not every one waits for its count: while the last answer
 * for the organization (in the same windows) left more than a margin (a tenth of the burst) beyond
 * the requests still being counted here, the request is admitted at once and counted alongside.
 * The Redis round trip was most of the gateway's own latency on a busy machine (bench:gateway);
 * near the limit, with no recent answer, or after a failure, every request waits for its count as
 * before, so refusals stay exact from one replica and late by at most the requests several
 * replicas have in flight at the same instant. A request found over the limit by a count made
 * alongside was already served: it is kept counted (outcome `over_admitted`), and the next ones wait.
 */
export class OrganizationRateLimiter {
  private readonly second: RateLimiterRedis;
  private readonly sustained: RateLimiterRedis;
  private readonly decisions: Counter<'outcome'>;
  private readonly availability: RedisAvailability;
  private readonly headroom = new LRUCache<string, Headroom>({ max: 10_000 });
  /** Admitted without waiting only while more than this many requests are left (besides those being counted). */
  private readonly margin: number;

  constructor(
    redis: Redis,
    private readonly opts: { limit: RequestRateLimit; redisGraceMs: number },
    logger: Logger,
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.margin = Math.max(1, Math.ceil(opts.limit.burst / 10));
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
      help: 'GraphQL requests by rate-limit outcome: allowed, limited (429), fail_open (Redis unreachable, let through uncounted), unavailable (Redis unreachable past the grace, 503), over_admitted (admitted before its count, which found the organization over: kept counted)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.availability = new RedisAvailability(redis, logger, registry, { gaugeName: 'gateway_rate_limit_redis_up', now });
  }

  /** Counts one request of the organization; throws RequestRateLimited (429) or unavailable (503). */
  async consume(organizationId: string): Promise<void> {
    const known = this.headroom.get(organizationId);
    if (known && this.now() < known.until && known.remaining - known.counting > this.margin) {
      known.counting++;
      this.decisions.inc({ outcome: 'allowed' });
      // Its outcome is recorded by count(); a failure there makes the next requests wait for theirs.
      void this.count(organizationId, 'admitted')
        .catch(() => undefined)
        .finally(() => known.counting--);
      return;
    }
    return this.count(organizationId, 'waiting');
  }

  /**
   * One request counted in both windows. `waiting`: the request waits for this answer (refused
   * over the limit, and given back). `admitted`: it was already let through on the headroom.
   */
  private async count(organizationId: string, request: 'waiting' | 'admitted'): Promise<void> {
    const answers = await Promise.allSettled([this.second.consume(organizationId), this.sustained.consume(organizationId)]);
    const failure = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected' && !(a.reason instanceof RateLimiterRes));
    if (failure) {
      this.headroom.delete(organizationId);
      return this.redisFailed(failure.reason, request);
    }
    this.availability.answered();
    const over = answers.filter((a): a is PromiseRejectedResult => a.status === 'rejected').map((a) => a.reason as RateLimiterRes);
    if (over.length === 0) {
      const counted = answers.map((a) => (a as PromiseFulfilledResult<RateLimiterRes>).value);
      this.remember(organizationId, counted);
      if (request === 'waiting') this.decisions.inc({ outcome: 'allowed' });
      return;
    }
    this.headroom.delete(organizationId);
    if (request === 'admitted') {
      this.decisions.inc({ outcome: 'over_admitted' });
      return;
    }
    // Given back in both windows: a refused request must not use up the allowance of the next ones.
    await Promise.allSettled([this.second.reward(organizationId, 1), this.sustained.reward(organizationId, 1)]);
    this.decisions.inc({ outcome: 'limited' });
    throw new RequestRateLimited(Math.max(1, ...over.map((r) => r.msBeforeNext)), this.opts.limit);
  }

  /** The headroom both windows' answers leave, kept until the first window ends (answers arrive in order on one connection). */
  private remember(organizationId: string, counted: RateLimiterRes[]): void {
    const remaining = Math.min(...counted.map((r) => r.remainingPoints));
    const until = this.now() + Math.min(...counted.map((r) => r.msBeforeNext));
    const known = this.headroom.get(organizationId);
    if (known) {
      known.remaining = remaining;
      known.until = until;
    } else {
      this.headroom.set(organizationId, { remaining, until, counting: 0 });
    }
  }

  /** For /readyz (not critical: requests pass within the grace). */
  ping(): Promise<void> {
    return this.availability.ping();
  }

  close(): Promise<void> {
    return this.availability.close();
  }

  private redisFailed(reason: unknown, request: 'waiting' | 'admitted'): void {
    const downForMs = this.availability.failed(reason);
    // Already let through: it passed uncounted, whatever the grace says of the next ones.
    if (downForMs <= this.opts.redisGraceMs || request === 'admitted') {
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
