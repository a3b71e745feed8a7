/**
 * Calls with the same key made while one is under way share its answer (or its error). Nothing is
 * kept once the answer is in: the next call asks again. QueryMeter uses it for Meters.GetMeter: a
 * dashboard asks a meter's windows and its total at the same instant, and both need the same
 * meter; a cache that outlived the call would answer from a version a completed backfill replaced.
 */
export function sharedInFlight<A extends unknown[], T>(keyOf: (...args: A) => string, call: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (...args) => {
    const key = keyOf(...args);
    let shared = inFlight.get(key);
    if (!shared) {
      shared = call(...args).finally(() => inFlight.delete(key));
      inFlight.set(key, shared);
    }
    return shared;
  };
}
