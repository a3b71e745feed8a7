/**
 * Polls `probe` until it returns a value, or fails with the last thing it saw. Tests wait on a
 * real condition with a deadline this way, never with a fixed sleep.
 *
 * Only "not yet" is retried: `undefined`, or an error thrown by the system under test (a
 * connection refused while a service starts). A failed assertion inside the probe fails at once:
 * a wrong answer must never be retried away. Poll a condition, then assert once.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (isAssertion(err)) throw err;
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** vitest's and node:assert's assertion errors. */
function isAssertion(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AssertionError' || 'matcherResult' in err);
}
