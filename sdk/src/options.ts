import { InvalidOptionError } from './errors.js';
import type { DeliveryProblem, FetchLike } from './types.js';

export interface PolarisClientOptions {
  /** The collector's base URL (`https://collector.example.com`); events go to `<url>/v1/events`. */
  url: string;
  /** An API key with the `events:write` scope. */
  apiKey: string;
  /** The `source` of events tracked without one. Default `polaris-sdk`. */
  source?: string;
  /** Events per request, 1 to 1000. Default 100. */
  batchSize?: number;
  /** A partial batch waits at most this long before it is sent. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Events held at most (waiting or in flight); `onFull` says what `track` does past it. Default 10,000. */
  maxBufferedEvents?: number;
  /** `'throw'` (default): `track` throws BufferFullError. `'drop'`: the event is dropped and counted. */
  onFull?: 'throw' | 'drop';
  /** Retries of one request after a network error, 408, 429 or 5xx. Default 8. */
  maxRetries?: number;
  /** The backoff's first ceiling: attempt n waits a random time below min(max, base × 2^n). Default 200 ms. */
  retryBaseDelayMs?: number;
  /** The backoff's highest ceiling. Default 30,000 ms. */
  retryMaxDelayMs?: number;
  /** A request not answered within this is abandoned and retried. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Default: the global fetch (Node 20+, browsers, Deno, Bun). */
  fetch?: FetchLike;
  /** Told of events refused for good and of deliveries that ran out of retries. Default: a console.warn line. */
  onError?: (problem: DeliveryProblem) => void;
}

/** Options with every default applied and every value checked. */
export interface ClientSettings {
  endpoint: string;
  apiKey: string;
  source: string;
  batchSize: number;
  flushIntervalMs: number;
  maxBufferedEvents: number;
  onFull: 'throw' | 'drop';
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  requestTimeoutMs: number;
  fetch: FetchLike;
  onError: (problem: DeliveryProblem) => void;
}

/** The collector takes at most this many events per request (MAX_EVENTS_PER_REQUEST). */
export const MAX_BATCH_SIZE = 1000;
const EVENTS_PATH = '/v1/events';

function integer(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any' : max}, got ${String(value)}`);
  }
  return value;
}

function text(name: string, value: unknown, maxLength = Number.MAX_SAFE_INTEGER): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidOptionError(name, 'must be a non-empty string');
  if (value.length > maxLength) throw new InvalidOptionError(name, `must be at most ${maxLength} characters`);
  return value;
}

function endpointOf(url: unknown): string {
  const parsed = (() => {
    try {
      return new URL(text('url', url));
    } catch {
      throw new InvalidOptionError('url', `must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
    }
  })();
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidOptionError('url', `must be http or https, got ${parsed.protocol}`);
  const base = parsed.href.replace(/\/+$/, '');
  // The endpoint itself is accepted too, so a URL copied from the docs works as is.
  return base.endsWith(EVENTS_PATH) ? base : `${base}${EVENTS_PATH}`;
}

const warn = (problem: DeliveryProblem): void => {
  if (problem.kind === 'rejected') {
    const [first] = problem.rejected;
    console.warn(`@polaris/sdk: ${problem.rejected.length} event(s) refused by the collector${first ? ` (${first.code}: ${first.message})` : ''}`);
  } else {
    console.warn(`@polaris/sdk: ${problem.events.length} event(s) not delivered yet, still buffered (${problem.reason})`);
  }
};

export function resolveOptions(options: PolarisClientOptions): ClientSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'must be an object with url and apiKey');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new InvalidOptionError('fetch', 'must be a function like fetch');
  if (options.fetch === undefined && typeof globalThis.fetch !== 'function') throw new InvalidOptionError('fetch', 'no global fetch (Node 20+ has one): pass a fetch implementation');
  // Called through globalThis: browsers refuse a fetch called on another object ("Illegal invocation").
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  if (options.onFull !== undefined && options.onFull !== 'throw' && options.onFull !== 'drop') {
    throw new InvalidOptionError('onFull', `must be 'throw' or 'drop', got ${JSON.stringify(options.onFull)}`);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new InvalidOptionError('onError', 'must be a function');
  const batchSize = integer('batchSize', options.batchSize, 100, 1, MAX_BATCH_SIZE);
  const retryBaseDelayMs = integer('retryBaseDelayMs', options.retryBaseDelayMs, 200, 1);
  return {
    endpoint: endpointOf(options.url),
    apiKey: text('apiKey', options.apiKey),
    source: options.source === undefined ? 'polaris-sdk' : text('source', options.source, 512),
    batchSize,
    flushIntervalMs: integer('flushIntervalMs', options.flushIntervalMs, 1000, 1),
    maxBufferedEvents: integer('maxBufferedEvents', options.maxBufferedEvents, 10_000, 1),
    onFull: options.onFull ?? 'throw',
    maxRetries: integer('maxRetries', options.maxRetries, 8, 0),
    retryBaseDelayMs,
    retryMaxDelayMs: integer('retryMaxDelayMs', options.retryMaxDelayMs, 30_000, retryBaseDelayMs),
    requestTimeoutMs: integer('requestTimeoutMs', options.requestTimeoutMs, 10_000, 1),
    fetch: fetchImpl,
    onError: options.onError ?? warn,
  };
}
