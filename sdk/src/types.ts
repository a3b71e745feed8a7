/**
 * Your event types and the shape of their data, so that `track` checks them at compile time:
 * `new PolarisClient<{ 'llm.tokens': { model: string; tokens: number } }>(…)`. Without one, any
 * type and any object as data are accepted.
 */
export type EventCatalog = Record<string, object>;

/** Any event type, any object as data: the catalog of an untyped client. */
export type AnyEvents = Record<string, Record<string, unknown>>;

/** What `track` takes. */
export interface TrackEvent<Type extends string = string, Data = Record<string, unknown>> {
  /** What happened, e.g. `api.request`: letters, digits and `. _ : / -`. Meters select events by it. */
  type: Type;
  /** Who is billed for it: your customer's id. */
  subject: string;
  /** A JSON object: strings, finite numbers, bigints (sent as exact integers), booleans, null, arrays, objects. */
  data?: Data;
  /** When it happened; default: the moment `track` is called (not when the batch is sent). */
  time?: Date | string;
  /** Default: a random UUID, fixed at `track`, so every retry carries the same id. */
  id?: string;
  /** Default: the client's `source`. (source, id) identifies an event: a second copy is not stored. */
  source?: string;
}

/** An event as the client holds and sends it: every attribute fixed when it was tracked. */
export interface TrackedEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  /** RFC 3339, as sent. */
  time: string;
  /** The data passed to `track` (the client sends the copy it serialized then). */
  data?: Record<string, unknown>;
}

/** An event the collector refused (a 4xx other than 408/429): it is not retried and leaves the buffer. */
export interface RejectedEvent {
  event: TrackedEvent;
  /** The HTTP status of the refusal, e.g. 400. */
  status: number;
  /** The collector's error code, e.g. `invalid_event`, `invalid_api_key`. */
  code: string;
  /** The attribute at fault, relative to the event (`time`, `data.tokens`), when the collector named one. */
  field?: string;
  message: string;
}

/** What one `flush()` did with the events buffered when it was called. */
export interface FlushResult {
  /** Events the collector accepted (202): they are durable, and stored once. */
  sent: number;
  /** Events refused for good; also reported to `onError`. */
  rejected: RejectedEvent[];
  /** Events still buffered because every retry failed (network, 429, 5xx); the next flush tries again. */
  undelivered: number;
}

/** Counters since the client was created, plus what is buffered now. */
export interface ClientStats {
  /** Events waiting to be sent, or in flight. */
  buffered: number;
  /** Events the collector accepted. */
  sent: number;
  /** Events sent again after a failed attempt (each resend counts). */
  retried: number;
  /** Events not buffered because the buffer was full (`onFull: 'drop'`). */
  dropped: number;
  /** Events the collector refused for good. */
  rejected: number;
}

/** What `onError` is told: events refused for good, or a delivery that ran out of retries. */
export type DeliveryProblem =
  | { kind: 'rejected'; rejected: RejectedEvent[] }
  /** Every retry failed; the events stay buffered and the next flush (timer or call) tries again. */
  | { kind: 'undelivered'; events: TrackedEvent[]; reason: string };

/** The part of `fetch` the client uses: pass your own (a proxy agent, instrumentation, a test double). */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;
