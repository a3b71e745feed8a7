import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../service/logger';

/** How a service names the gauge of its rate limiter's Redis (`collector_rate_limit_redis_up`). */
export interface RedisAvailabilityOptions {
  gaugeName: string;
  now?: () => number;
}

/**
 * Since when the rate limiter's Redis has been unreachable, as seen from the connection (it closed,
 * it errs) and from the requests (a command failed), whichever is first. The grace of the fail-open
 * counts from then, so a Redis that went away while no request came is not given a fresh grace by
 * the first request after it. Cleared by the connection becoming ready or a command succeeding.
 */
export class RedisAvailability {
  private downSince: number | undefined;
  private everReady = false;
  private closing = false;
  private readonly up: Gauge;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    registry: Registry,
    opts: RedisAvailabilityOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.up = new Gauge({ name: opts.gaugeName, help: '1 while the rate limiter reaches Redis, 0 while it fails open or refuses', registers: [registry] });
    // Until the first connection is ready, Redis counts as down since the start: a collector that
    // never reaches it fails open for the grace, then refuses, like one that lost it.
    this.markDown(undefined);
    redis.on('ready', () => this.answered());
    redis.on('close', () => this.markDown(undefined));
    // ioredis reconnects on its own; without a listener an 'error' event would crash the process.
    redis.on('error', (err: unknown) => this.markDown(err));
  }

  /** A command was answered: Redis is back, if it was away. */
  answered(): void {
    if (this.downSince === undefined) return;
    if (this.everReady) this.logger.info({ downForMs: this.now() - this.downSince }, 'rate limiter: Redis reachable again; counting again');
    this.everReady = true;
    this.downSince = undefined;
    this.up.set(1);
  }

  /** A command failed; returns how long Redis has been unreachable. */
  failed(err: unknown): number {
    this.markDown(err);
    return this.now() - (this.downSince ?? this.now());
  }

  async ping(): Promise<void> {
    if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}; requests pass uncounted within RATE_LIMIT_REDIS_GRACE_MS, then get 503`);
    await this.redis.ping();
  }

  /** Shutdown: the connection closing is not an outage to report. */
  async close(): Promise<void> {
    this.closing = true;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private markDown(err: unknown): void {
    if (this.downSince !== undefined || this.closing) return;
    this.downSince = this.now();
    this.up.set(0);
    // Said once per outage (ioredis keeps erring on each reconnect attempt); not at start, where
    // the first connection is normally a few milliseconds away.
    if (err !== undefined || this.everReady) this.logger.warn({ err }, 'rate limiter: Redis unreachable; failing open for the grace period, then refusing');
  }
}
