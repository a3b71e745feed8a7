import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { PolarisError } from '@polaris/shared/errors';
import type { Logger } from '@polaris/shared/service';
import { RedisAvailability } from './redis-availability';

/** An organization's allowance: `eventsPerSecond` on average, at most `burst` in any one second. */
export interface EventRateLimit {
  eventsPerSecond: number;
  burst: number;
}

/** The average is kept over windows this long, so a client may spend a few seconds' worth at once. */
export const SUSTAINED_WINDOW_SECONDS = 10;

/** The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers), for the window nearest its end. */
export type RateLimitHeaders = Record<'ratelimit-limit' | 'ratelimit-remaining' | 'ratelimit-reset', string>;

/** 429: over the organization's allowance. Carries the headers its answer must have (Retry-After too). */
export class EventRateLimitExceeded extends PolarisError {
  constructor(
    message: string,
    readonly headers: RateLimitHeaders & { 'retry-after': string },
  ) {
    super('rate_limited', 'rate_limited', message);
  }
}

export interface EventRateLimiterOptions {
  /** Organizations without a limit of their own get this one; undefined: they are not limited. */
  defaultLimit: EventRateLimit | undefined;
  /** How long Redis may be unreachable while requests are let through uncounted (fail open). */
  redisGraceMs: number;
}

/** Two fixed windows per limit: the burst (one second) and the average (SUSTAINED_WINDOW_SECONDS). */
interface Windows {
  second: RateLimiterRedis;
  sustained: RateLimiterRedis;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Per-organization event rate limits, counted in events (a batch of 1,000 costs 1,000) in Redis
 * with rate-limiter-flexible, so every collector replica shares one count.
 *
 * A limit is two fixed windows that must both admit a request: at most `burst` events in one
 * second, and at most `eventsPerSecond × SUSTAINED_WINDOW_SECONDS` in the longer window.
 * rate-limiter-flexible counts a refused consume too; the refused events are given back
 * (`reward`), so a client that is refused and waits gets its allowance back on time.
 *
 * Redis down: requests pass uncounted for `redisGraceMs` from the moment it went away (a short
 * Redis failover must not stop ingestion), then are refused with 503 until it is back: unlimited
 * ingestion for longer would let one tenant flood the broker. Both are counted in
 * collector_rate_limit_requests_total.
 */
export class EventRateLimiter {
  private readonly windows = new Map<string, Windows>();
  private readonly decisions: Counter<'outcome'>;
  private readonly availability: RedisAvailability;

  constructor(
    private readonly redis: Redis,
    private readonly opts: EventRateLimiterOptions,
    private readonly logger: Logger,
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.decisions = new Counter({
      name: 'collector_rate_limit_requests_total',
      help: 'POST /v1/events requests by rate-limit outcome: allowed, limited (429), fail_open (Redis unreachable, let through uncounted), unavailable (Redis unreachable past the grace, 503)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.availability = new RedisAvailability(redis, logger, registry, now);
  }

  /**
   * Counts `events` against the organization's limit (its own, else the default). Resolves with
   * the RateLimit headers of the answer, or undefined when the organization is not limited or
   * Redis is down within the grace; throws EventRateLimitExceeded (429), payload_too_large (a
   * request larger than the limit could ever admit) or unavailable (Redis down past the grace).
   */
  async consume(organizationId: string, events: number, own: EventRateLimit | undefined): Promise<RateLimitHeaders | undefined> {
    const limit = own ?? this.opts.defaultLimit;
    if (!limit) return undefined;
    const capacity = Math.min(limit.burst, limit.eventsPerSecond * SUSTAINED_WINDOW_SECONDS);
    if (events > capacity) {
      throw new PolarisError(
        'payload_too_large',
        'batch_exceeds_rate_limit',
        `this request has ${events} events, more than your organization's rate limit ever admits at once (${capacity}); send smaller batches`,
        'body',
      );
    }
    const { second, sustained } = this.windowsFor(limit);
    const answers = await Promise.allSettled([second.consume(organizationId, events), sustained.consume(organizationId, events)]);
    const failure = answers.find((a) => a.status === 'rejected' && !(a.reason instanceof RateLimiterRes));
    if (failure) return this.redisFailed(failure.status === 'rejected' ? failure.reason : undefined);
    this.availability.answered();

    const [bySecond, bySustained] = answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as RateLimiterRes))) as [RateLimiterRes, RateLimiterRes];
    const refused = answers.some((a) => a.status === 'rejected');
    if (!refused) {
      this.decisions.inc({ outcome: 'allowed' });
      return headersOf(limit, bySecond, bySustained, 0);
    }
    // Both windows counted the events though they were refused: give them back.
    await Promise.allSettled([second.reward(organizationId, events), sustained.reward(organizationId, events)]);
    this.decisions.inc({ outcome: 'limited' });
    // Each refusing window admits `events` again once it resets (capacity covers them): wait for the later one.
    const waitMs = Math.max(...[bySecond, bySustained].filter((_, i) => answers[i]?.status === 'rejected').map((r) => r.msBeforeNext));
    throw new EventRateLimitExceeded(
      `your organization may send ${limit.eventsPerSecond} events per second (at most ${limit.burst} in one second); these ${events} events exceed it: retry after ${seconds(waitMs)} s`,
      { ...headersOf(limit, bySecond, bySustained, events), 'retry-after': String(seconds(waitMs)) },
    );
  }

  /** Gives back events counted for a request that then failed (the broker did not take them). */
  async refund(organizationId: string, events: number, own: EventRateLimit | undefined): Promise<void> {
    const limit = own ?? this.opts.defaultLimit;
    if (!limit) return;
    const { second, sustained } = this.windowsFor(limit);
    await Promise.allSettled([second.reward(organizationId, events), sustained.reward(organizationId, events)]);
  }

  /** For /readyz (not critical: the collector keeps taking events while Redis is down, within the grace). */
  ping(): Promise<void> {
    return this.availability.ping();
  }

  close(): Promise<void> {
    return this.availability.close();
  }

  private redisFailed(reason: unknown): undefined {
    const downForMs = this.availability.failed(reason);
    if (downForMs <= this.opts.redisGraceMs) {
      this.decisions.inc({ outcome: 'fail_open' });
      return undefined;
    }
    this.decisions.inc({ outcome: 'unavailable' });
    throw new PolarisError(
      'unavailable',
      'rate_limiter_unavailable',
      `the rate limiter's Redis has been unreachable for ${Math.round(downForMs / 1000)} s (past RATE_LIMIT_REDIS_GRACE_MS); retry with backoff`,
    );
  }

  private windowsFor(limit: EventRateLimit): Windows {
    const key = `${limit.eventsPerSecond}/${limit.burst}`;
    let windows = this.windows.get(key);
    if (!windows) {
      // Organizations with the same limit share limiter objects; counts are per organization (the
      // Redis key). The key prefix is the same for every limit, so a new limit applies to the
      // events already counted in the current window.
      if (this.windows.size >= 1_000) this.windows.clear();
      const common = { storeClient: this.redis, rejectIfRedisNotReady: true };
      windows = {
        second: new RateLimiterRedis({ ...common, keyPrefix: 'polaris:events:1s', points: limit.burst, duration: 1 }),
        sustained: new RateLimiterRedis({
          ...common,
          keyPrefix: `polaris:events:${SUSTAINED_WINDOW_SECONDS}s`,
          points: limit.eventsPerSecond * SUSTAINED_WINDOW_SECONDS,
          duration: SUSTAINED_WINDOW_SECONDS,
        }),
      };
      this.windows.set(key, windows);
    }
    return windows;
  }
}

/**
 * The headers for the window with the fewest events left (the one that refuses first). `givenBack`:
 * events counted in the answers but returned since (a refused request's).
 */
function headersOf(limit: EventRateLimit, bySecond: RateLimiterRes, bySustained: RateLimiterRes, givenBack: number): RateLimitHeaders {
  const window = (points: number, res: RateLimiterRes) => ({ points, left: Math.max(0, points - (res.consumedPoints - givenBack)), resetMs: res.msBeforeNext });
  const second = window(limit.burst, bySecond);
  const sustained = window(limit.eventsPerSecond * SUSTAINED_WINDOW_SECONDS, bySustained);
  const nearest = sustained.left < second.left ? sustained : second;
  return {
    'ratelimit-limit': String(nearest.points),
    'ratelimit-remaining': String(nearest.left),
    'ratelimit-reset': String(seconds(nearest.resetMs)),
  };
}
