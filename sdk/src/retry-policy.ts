/**
 * When to try a request again, and how long to wait first.
 *
 * Full-jitter exponential backoff: attempt n (0-based) waits a uniformly random time in
 * [0, min(maxMs, baseMs × 2^n)). Clients that failed together (a collector restart, a broker
 * outage) spread out instead of returning in lockstep, and the expected wait still doubles.
 * A Retry-After from the collector (a 429's rate-limit window, a 503) is a floor: the wait is
 * Retry-After plus up to baseMs of jitter, so clients told the same second do not all arrive in
 * its first millisecond.
 */

export interface BackoffSettings {
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

export function backoffDelayMs(attempt: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.retryMaxDelayMs, settings.retryBaseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Retry-After as milliseconds from `nowMs`: delay-seconds or an HTTP date (RFC 9110). Undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (/[a-z]/i.test(value) && !Number.isNaN(date)) return Math.max(0, date - nowMs);
  return undefined;
}

export function retryDelayMs(attempt: number, retryAfter: number | undefined, settings: BackoffSettings, random: () => number = Math.random): number {
  if (retryAfter === undefined) return backoffDelayMs(attempt, settings, random);
  return retryAfter + Math.floor(random() * settings.retryBaseDelayMs);
}

/**
 * Statuses worth retrying: 408 (the request did not arrive in time), 429 (over the rate limit),
 * and every 5xx (an outage; retrying is safe, as the collector stores each (source, id) once).
 * Every other status says the request itself is wrong and would fail the same way again.
 */
export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;
