import { PolarisClient, type DeliveryProblem } from '@polaris/sdk';

/** One event the load tracked, with what it should add to the SUM meter (hundredths, exact). */
export interface SentEvent {
  id: string;
  subject: string;
  tokensHundredths: bigint;
}

export const EVENT_TYPE = 'fault.call';
export const SUBJECTS = ['cust-a', 'cust-b', 'cust-c', 'cust-d'];

/** Event i's tokens: whole and quarter values (exact as doubles), and their hundredths. */
export function tokensOf(i: number): { text: string; hundredths: bigint } {
  const whole = (i * 37) % 1000;
  const quarter = (i % 4) * 25;
  return { text: `${whole}.${String(quarter).padStart(2, '0')}`, hundredths: BigInt(whole * 100 + quarter) };
}

export interface LoadReport {
  sent: SentEvent[];
  /** The client's counters at the end: `retried` shows the faults were felt. */
  stats: ReturnType<PolarisClient['stats']>;
  problems: DeliveryProblem[];
}

export interface SteadyLoad {
  /** Events tracked so far. */
  tracked(): number;
  /** Resolves once every event is tracked and the client has delivered them all (close()). */
  done: Promise<LoadReport>;
}

/**
 * A steady stream of `count` events at about `perSecond`, through the typed client
 * (@polaris/sdk), which retries network errors, 408, 429 and 5xx with backoff, resending the same
 * ids: exactly what a customer's app does through a fault. Retries are many and short so that a
 * fault of tens of seconds is ridden out. The ids are known: `${idPrefix}-${i}`.
 */
export function steadyLoad(opts: {
  collectorUrl: string;
  apiKey: string;
  count: number;
  perSecond: number;
  idPrefix: string;
  source?: string;
  /** Event i's time; default the moment it is tracked. Copies of one event must share it: a copy with other content is a conflict, not a duplicate. */
  timeOf?: (i: number) => Date;
}): SteadyLoad {
  const problems: DeliveryProblem[] = [];
  const client = new PolarisClient({
    url: opts.collectorUrl,
    apiKey: opts.apiKey,
    source: opts.source ?? 'e2e-faults',
    batchSize: 100,
    flushIntervalMs: 100,
    maxBufferedEvents: opts.count + 1,
    maxRetries: 200,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 1_000,
    requestTimeoutMs: 10_000,
    onError: (problem) => problems.push(problem),
  });
  const sent: SentEvent[] = [];
  const TICK_MS = 50;
  const perTick = Math.max(1, Math.round((opts.perSecond * TICK_MS) / 1000));
  const done = (async () => {
    for (let i = 0; i < opts.count; ) {
      for (let n = 0; n < perTick && i < opts.count; n++, i++) {
        const subject = SUBJECTS[i % SUBJECTS.length] as string;
        const tokens = tokensOf(i);
        const id = `${opts.idPrefix}-${i}`;
        // Quarters are exact doubles and print as their decimal text: nothing is rounded on the way.
        client.track({ id, type: EVENT_TYPE, subject, data: { tokens: Number(tokens.text) }, ...(opts.timeOf ? { time: opts.timeOf(i) } : {}) });
        sent.push({ id, subject, tokensHundredths: tokens.hundredths });
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    await client.close();
    return { sent, stats: client.stats(), problems };
  })();
  return { tracked: () => sent.length, done };
}
