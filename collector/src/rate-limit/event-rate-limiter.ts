import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { PolarisError } from '@polaris/shared/errors';
import type { Logger } from '@polaris/shared/service';
import { RedisAvailability } from '@polaris/shared/rate-limit';

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
 * Requests of one organization are counted in groups, with one call per window for their sum: a
 * group gathers what arrives while the organization's previous count waits for Redis. With many
 * small requests in flight, two calls per request made Redis spend more CPU than the broker
 * (bench:ingest, 1-event requests: 41-44 ms of Redis CPU per 1,000 events; 6-7 ms grouped). The
 * answer says what was counted before the group, so the requests are then admitted in arrival
 * order while they fit, as if each had come alone one after the other, and the refused ones'
 * events are given back at once.
 *
 * Redis down: requests pass uncounted for `redisGraceMs` from the moment it went away (a short
 * Redis failover must not stop ingestion), then are refused with 503 until it is back: unlimited
 * ingestion for longer would let one tenant flood the broker. Both are counted in
 * collector_rate_limit_requests_total.
 */
export class EventRateLimiter {
  private readonly windows = new Map<string, Windows>();
  /** Requests waiting for their Redis call, by organization and limit (groupKey). */
  private readonly gathering = new Map<string, Group>();
  /** Counts waiting for Redis, by the same key. */
  private readonly counting = new Map<string, number>();
  private flushing: NodeJS.Immediate | undefined;
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
    this.availability = new RedisAvailability(redis, logger, registry, { gaugeName: 'collector_rate_limit_redis_up', now });
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
    const windows = this.windowsFor(limit);
    const key = groupKey(organizationId, limit);
    let group = this.gathering.get(key);
    if (group && group.events + events > capacity) {
      // The sum could never be admitted at once: count what gathered so far on its own, now.
      this.gathering.delete(key);
      this.startCount(key, group);
      group = undefined;
    }
    if (!group) {
      group = { organizationId, limit, windows, events: 0, members: [] };
      this.gathering.set(key, group);
    }
    const gathered = group;
    const answer = new Promise<RateLimitHeaders | undefined>((resolve, reject) => {
      gathered.members.push({ events, resolve, reject });
    });
    gathered.events += events;
    this.flushing ??= setImmediate(() => this.flushGathered());
    return answer;
  }

  /**
   * Starts a count for each group gathered, except where one of the same organization and limit
   * is still waiting for Redis: those gather on until it answers (a group commit), so under load
   * a group holds what arrived during a whole round trip, not only during one turn.
   */
  private flushGathered(): void {
    this.flushing = undefined;
    for (const [key, group] of this.gathering) {
      if (this.counting.has(key)) continue;
      this.gathering.delete(key);
      this.startCount(key, group);
    }
  }

  private startCount(key: string, group: Group): void {
    this.counting.set(key, (this.counting.get(key) ?? 0) + 1);
    void this.count(group)
      // Never expected (count settles every member itself); a request must not wait forever for it.
      .catch((err: unknown) => {
        for (const m of group.members) m.reject(err);
      })
      .finally(() => {
        const left = (this.counting.get(key) ?? 1) - 1;
        if (left > 0) this.counting.set(key, left);
        else this.counting.delete(key);
        if (this.gathering.has(key)) this.flushing ??= setImmediate(() => this.flushGathered());
      });
  }

  /**
   * Counts a group's sum with one call per window, then admits its requests in arrival order while
   * they fit in what was left before the group, as if each had come alone one after the other.
   * The events of the refused ones are given back in one call.
   */
  private async count(group: Group): Promise<void> {
    const { organizationId, limit, windows, members } = group;
    const answers = await consumeBoth(windows, organizationId, group.events);
    if (answers.failure) {
      for (const m of members) {
        try {
          m.resolve(this.redisFailed(answers.failure.reason));
        } catch (err) {
          m.reject(err);
        }
      }
      return;
    }
    this.availability.answered();
    const second = { points: limit.burst, before: answers.bySecond.consumedPoints - group.events, res: answers.bySecond };
    const sustained = { points: limit.eventsPerSecond * SUSTAINED_WINDOW_SECONDS, before: answers.bySustained.consumedPoints - group.events, res: answers.bySustained };
    let admitted = 0;
    const refused: Member[] = [];
    const passed: Member[] = [];
    for (const m of members) {
      if (second.before + admitted + m.events <= second.points && sustained.before + admitted + m.events <= sustained.points) {
        admitted += m.events;
        passed.push(m);
      } else {
        refused.push(m);
      }
    }
    const givenBack = refused.reduce((n, m) => n + m.events, 0);
    if (givenBack > 0) await giveBack(windows, organizationId, givenBack);
    const left = (w: typeof second) => ({ points: w.points, left: Math.max(0, w.points - w.before - admitted), resetMs: w.res.msBeforeNext });
    const headers = headersOf(left(second), left(sustained));
    for (const m of passed) {
      this.decisions.inc({ outcome: 'allowed' });
      m.resolve(headers);
    }
    for (const m of refused) {
      this.decisions.inc({ outcome: 'limited' });
      // Each window it does not fit admits it again once it resets (capacity covers it): wait for the later one.
      const waitMs = Math.max(...[second, sustained].filter((w) => w.before + admitted + m.events > w.points).map((w) => w.res.msBeforeNext));
      m.reject(
        new EventRateLimitExceeded(
          `your organization may send ${limit.eventsPerSecond} events per second (at most ${limit.burst} in one second); these ${m.events} events exceed it: retry after ${seconds(waitMs)} s`,
          { ...headers, 'retry-after': String(seconds(waitMs)) },
        ),
      );
    }
  }

  /** Gives back events counted for a request that then failed (the broker did not take them). */
  async refund(organizationId: string, events: number, own: EventRateLimit | undefined): Promise<void> {
    const limit = own ?? this.opts.defaultLimit;
    if (!limit) return;
    await giveBack(this.windowsFor(limit), organizationId, events);
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
    const key = limitKey(limit);
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

/** One request waiting in a group. */
interface Member {
  events: number;
  resolve: (headers: RateLimitHeaders | undefined) => void;
  reject: (err: unknown) => void;
}

/** The requests of one organization under one limit gathered in one turn, and their sum. */
interface Group {
  organizationId: string;
  limit: EventRateLimit;
  windows: Windows;
  events: number;
  members: Member[];
}

const limitKey = (limit: EventRateLimit) => `${limit.eventsPerSecond}/${limit.burst}`;
const groupKey = (organizationId: string, limit: EventRateLimit) => `${organizationId}\n${limitKey(limit)}`;

type BothAnswers = { failure: PromiseRejectedResult } | { failure?: undefined; bySecond: RateLimiterRes; bySustained: RateLimiterRes };

/**
 * Counts `events` in both windows at once: each answer holds the window's count with them. A
 * window over its points rejects with its RateLimiterRes (the events counted all the same); an
 * Error is Redis failing.
 */
async function consumeBoth(windows: Windows, organizationId: string, events: number): Promise<BothAnswers> {
  const answers = await Promise.allSettled([windows.second.consume(organizationId, events), windows.sustained.consume(organizationId, events)]);
  const failure = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected' && !(a.reason instanceof RateLimiterRes));
  if (failure) return { failure };
  const [bySecond, bySustained] = answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as RateLimiterRes))) as [RateLimiterRes, RateLimiterRes];
  return { bySecond, bySustained };
}

function giveBack(windows: Windows, organizationId: string, events: number): Promise<unknown> {
  return Promise.allSettled([windows.second.reward(organizationId, events), windows.sustained.reward(organizationId, events)]);
}

/** What one window has left once a group is counted. */
interface WindowLeft {
  points: number;
  left: number;
  resetMs: number;
}

/** The headers for the window with the fewest events left (the one that refuses first). */
function headersOf(second: WindowLeft, sustained: WindowLeft): RateLimitHeaders {
  const nearest = sustained.left < second.left ? sustained : second;
  return {
    'ratelimit-limit': String(nearest.points),
    'ratelimit-remaining': String(nearest.left),
    'ratelimit-reset': String(seconds(nearest.resetMs)),
  };
}
