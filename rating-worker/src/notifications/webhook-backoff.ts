// The retry schedule of webhook deliveries: exponential from a base, capped, with ±20 % jitter so
// the retries of many deliveries that failed together (an endpoint's outage) do not come back at
// once. With the defaults (30 s base, 6 h cap, 15 attempts) the retries span 26 to 39 hours.

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

const JITTER = 0.2;

/** The delay before retry `retry` (1 = the first retry), given a random number in [0, 1). */
export function retryDelayMs(settings: BackoffSettings, retry: number, random: number = Math.random()): number {
  const exponential = settings.baseMs * 2 ** Math.min(Math.max(retry - 1, 0), 40);
  const capped = Math.min(exponential, settings.maxMs);
  return Math.round(capped * (1 - JITTER + 2 * JITTER * random));
}

/** The span of every retry of `attempts` attempts, at the jitter's low (random 0) or high (random ~1) end. */
export function retrySpanMs(settings: BackoffSettings, attempts: number, random: number): number {
  let total = 0;
  for (let retry = 1; retry < attempts; retry++) total += retryDelayMs(settings, retry, random);
  return total;
}
