import { Redis } from 'ioredis';

/** A rate-limit count slower than this is treated as Redis being unreachable (the request is not held up). */
const REDIS_COMMAND_TIMEOUT_MS = 500;

/**
 * The Redis client of the rate limits. No offline queue: while Redis is away a count fails at once
 * (and the limiter fails open or refuses) instead of waiting for a reconnect; ioredis keeps
 * reconnecting in the background. Auto-pipelining writes every command issued in one turn of the
 * event loop (a group's two windows, other organizations' groups) with one socket write: on a
 * small machine each write to a local socket costs as much as the script it carries.
 */
export function createRateLimitRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    enableAutoPipelining: true,
  });
}
