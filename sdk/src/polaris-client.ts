import { deliverBatch, type DeliveryClock, type DeliveryOutcome } from './batch-delivery.js';
import { BufferFullError, ClientClosedError, UndeliveredEventsError } from './errors.js';
import { resolveOptions, type ClientSettings, type PolarisClientOptions } from './options.js';
import { prepareEvent, type PreparedEvent } from './prepare-event.js';
import type { AnyEvents, ClientStats, DeliveryProblem, FlushResult, TrackEvent } from './types.js';

/**
 * The collector's default body limit is 1 MiB (MAX_BODY_BYTES): a batch is cut before this many
 * bytes of events, so large events never cost a 413 and a resend. (A collector set lower answers
 * 413, and the batch is split.)
 */
export const MAX_REQUEST_BYTES = 1_000_000;

/**
 * Delivery waits keep the process alive: an awaited close() must not end with the process.
 * Globals are read at each call, so tests can fake timers and randomness.
 */
const clock: DeliveryClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
  now: () => Date.now(),
};

/**
 * Sends usage events to the Polaris collector in the background: `track` checks an event and
 * buffers it; a batch goes out when `batchSize` events are waiting, or at most `flushIntervalMs`
 * after an event was tracked; failed requests are retried with backoff (retry-policy.ts); events the collector
 * refuses for good are reported and dropped (batch-delivery.ts). One request is in flight at a
 * time, so events arrive in the order they were tracked.
 */
export class PolarisClient<Events extends object = AnyEvents> {
  private readonly settings: ClientSettings;
  /** Oldest first; the batch in flight is its head. Only a delivery round removes events, from the head. */
  private buffer: PreparedEvent[] = [];
  private bufferedBytes = 0;
  private nextSeq = 0;
  /** batchSize, unless the collector said this organization's batches must be smaller. */
  private batchLimit: number;
  private readonly counters = { sent: 0, retried: 0, dropped: 0, rejected: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Delivery rounds run one after another, each after the previous one settled. */
  private rounds: Promise<unknown> = Promise.resolve();
  private fullBatchQueued = false;
  private closing: Promise<void> | undefined;
  /** The flush() calls waiting, each counting what becomes of its events. */
  private readonly observers = new Set<(outcome: DeliveryOutcome) => void>();

  constructor(options: PolarisClientOptions) {
    this.settings = resolveOptions(options);
    this.batchLimit = this.settings.batchSize;
  }

  /**
   * Checks the event (InvalidEventError naming the attribute), fixes its id, source and time,
   * and buffers it. Returns its id, or undefined when it was dropped (a full buffer with
   * `onFull: 'drop'`). Throws BufferFullError (full, `onFull: 'throw'`) or ClientClosedError.
   */
  track<Type extends keyof Events & string>(event: TrackEvent<Type, Events[Type]>): string | undefined {
    if (this.closing) throw new ClientClosedError();
    const prepared = prepareEvent(event as TrackEvent, { source: this.settings.source, now: new Date(), seq: this.nextSeq });
    if (this.buffer.length >= this.settings.maxBufferedEvents) {
      if (this.settings.onFull === 'throw') throw new BufferFullError(this.settings.maxBufferedEvents);
      this.counters.dropped++;
      return undefined;
    }
    this.nextSeq++;
    this.buffer.push(prepared);
    this.bufferedBytes += prepared.bytes;
    if (this.hasFullBatch()) this.queueFullBatches();
    else this.armTimer();
    return prepared.event.id;
  }

  /**
   * Sends every event buffered when it is called (after the batch in flight, if any), retrying as
   * configured. Resolves with what became of those events, whichever round sent them; never
   * rejects for a delivery failure.
   */
  flush(): Promise<FlushResult> {
    const upTo = this.nextSeq;
    const result: FlushResult = { sent: 0, rejected: [], undelivered: 0 };
    const observe = (outcome: DeliveryOutcome) => {
      result.sent += outcome.sent.filter((p) => p.seq < upTo).length;
      result.rejected.push(...outcome.rejected.filter((r) => r.prepared.seq < upTo).map((r) => r.rejection));
    };
    this.observers.add(observe);
    return this.serialized(() => this.deliverUpTo(upTo))
      .then(() => {
        result.undelivered = this.buffer.filter((p) => p.seq < upTo).length;
        return result;
      })
      .finally(() => this.observers.delete(observe));
  }

  /**
   * Stops taking events, sends everything buffered and stops the timer. Rejects with
   * UndeliveredEventsError, holding the events, if some could not be delivered through every retry.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      const lastFailure = await this.serialized(() => this.deliverUpTo(Number.POSITIVE_INFINITY));
      if (this.buffer.length > 0) throw new UndeliveredEventsError(this.buffer.map((p) => p.event), lastFailure ?? 'unknown');
    })();
    return this.closing;
  }

  stats(): ClientStats {
    return { buffered: this.buffer.length, ...this.counters };
  }

  private hasFullBatch(): boolean {
    return this.buffer.length >= this.batchLimit || this.bufferedBytes >= MAX_REQUEST_BYTES;
  }

  /** A partial batch waits at most flushIntervalMs: the timer starts with the first event tracked while none is armed. */
  private armTimer(): void {
    if (this.timer !== undefined || this.closing || this.buffer.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const upTo = this.nextSeq;
      this.inBackground(() => this.deliverUpTo(upTo));
    }, this.settings.flushIntervalMs);
    // Waiting for the next batch never keeps a process alive; close() is how an app waits for delivery.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private queueFullBatches(): void {
    if (this.fullBatchQueued) return;
    this.fullBatchQueued = true;
    this.inBackground(() => {
      this.fullBatchQueued = false;
      return this.deliverUpTo('full batches');
    });
  }

  private inBackground(work: () => Promise<unknown>): void {
    // Delivery failures are reported through onError; anything reaching here is a bug of ours,
    // and must not become an unhandled rejection that ends the app.
    this.serialized(work).catch((err: unknown) => console.error('@polaris/sdk: delivery round failed', err));
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.rounds.then(work);
    this.rounds = run.catch(() => undefined);
    return run;
  }

  /** The next batch from the head of the buffer: up to batchLimit events and MAX_REQUEST_BYTES (at least one event). */
  private nextBatch(): PreparedEvent[] {
    let bytes = 2; // the body is `[event,event,…]`
    let count = 0;
    for (const prepared of this.buffer) {
      const more = prepared.bytes + (count > 0 ? 1 : 0);
      if (count === this.batchLimit || (count > 0 && bytes + more > MAX_REQUEST_BYTES)) break;
      bytes += more;
      count++;
    }
    return this.buffer.slice(0, count);
  }

  /**
   * One delivery round: batches from the head of the buffer while they hold events tracked before
   * `upTo` (a sequence number), or while full batches wait. Stops at the first batch that ran out
   * of retries: the collector is unreachable, and the timer tries again later.
   */
  private async deliverUpTo(upTo: number | 'full batches'): Promise<string | undefined> {
    let lastFailure: string | undefined;
    for (;;) {
      const head = this.buffer[0];
      if (!head || (upTo === 'full batches' ? !this.hasFullBatch() : head.seq >= upTo)) break;
      const batch = this.nextBatch();
      const outcome = await deliverBatch(batch, this.settings, clock);
      this.settle(batch, outcome);
      if (outcome.undelivered.length > 0) {
        lastFailure = outcome.reason;
        break;
      }
    }
    this.armTimer();
    return lastFailure;
  }

  private settle(batch: PreparedEvent[], outcome: DeliveryOutcome): void {
    // The batch is still the buffer's head: tracking only appends, and rounds run one at a time.
    this.buffer.splice(0, batch.length, ...outcome.undelivered);
    for (const prepared of [...outcome.sent, ...outcome.rejected.map((r) => r.prepared)]) this.bufferedBytes -= prepared.bytes;
    if (outcome.smallerBatch !== undefined) this.batchLimit = Math.min(this.batchLimit, outcome.smallerBatch);
    this.counters.sent += outcome.sent.length;
    this.counters.retried += outcome.retried;
    this.counters.rejected += outcome.rejected.length;
    for (const observe of this.observers) observe(outcome);
    if (outcome.rejected.length > 0) this.report({ kind: 'rejected', rejected: outcome.rejected.map((r) => r.rejection) });
    if (outcome.undelivered.length > 0) {
      this.report({ kind: 'undelivered', events: outcome.undelivered.map((p) => p.event), reason: outcome.reason ?? 'unknown' });
    }
  }

  private report(problem: DeliveryProblem): void {
    try {
      this.settings.onError(problem);
    } catch (err) {
      console.error('@polaris/sdk: onError threw', err);
    }
  }
}
