import { setTimeout as delay } from 'node:timers/promises';

/**
 * Polls `check` until it resolves, `aborted` reports a reason to stop, or the deadline passes.
 * Returns undefined on success, otherwise why it gave up (with the last check error), so the
 * caller can name what it was waiting for. A real condition with a deadline, never a fixed sleep.
 */
export async function pollUntil(
  check: () => Promise<void>,
  options: { timeoutMs: number; intervalMs?: number; aborted?: () => string | undefined },
): Promise<string | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const abort = options.aborted?.();
    if (abort) return abort;
    try {
      await check();
      return undefined;
    } catch (error) {
      if (Date.now() >= deadline) {
        const last = error instanceof Error ? error.message : String(error);
        return `not ready after ${Math.round(options.timeoutMs / 1000)}s (last check: ${last})`;
      }
    }
    await delay(options.intervalMs ?? 250);
  }
}
