import type { PreparedEvent } from './prepare-event.js';
import type { FetchLike } from './types.js';

/** How the collector answered one request, or that it could not be reached. */
export type CollectorAnswer =
  | { kind: 'accepted' }
  | { kind: 'refused'; status: number; code: string; field?: string; message: string; retryAfter: string | null }
  | { kind: 'unreachable'; reason: string };

export interface TransportSettings {
  endpoint: string;
  apiKey: string;
  requestTimeoutMs: number;
  fetch: FetchLike;
}

const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    // undici says "fetch failed" and puts the reason (ECONNREFUSED, a reset) in `cause`.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message;
    return detail ? `${err.message} (${detail})` : err.message;
  }
  return String(err);
}

/** The collector's error body, `{ "error": { code, message, field? } }`; a proxy's HTML page gets `http_<status>`. */
function refusalOf(status: number, body: string, retryAfter: string | null): CollectorAnswer {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    const error = parsed.error;
    if (error && typeof error.code === 'string') {
      return {
        kind: 'refused',
        status,
        code: error.code,
        message: typeof error.message === 'string' ? error.message : error.code,
        retryAfter,
        ...(typeof error.field === 'string' ? { field: error.field } : {}),
      };
    }
  } catch {
    // not JSON: below
  }
  return { kind: 'refused', status, code: `http_${status}`, message: body.slice(0, 200) || `HTTP ${status}`, retryAfter };
}

/** POSTs the events as one batched-mode request (`application/cloudevents-batch+json`). */
export async function postBatch(settings: TransportSettings, events: readonly PreparedEvent[]): Promise<CollectorAnswer> {
  const body = `[${events.map((e) => e.json).join(',')}]`;
  let response: Awaited<ReturnType<FetchLike>>;
  try {
    response = await settings.fetch(settings.endpoint, {
      method: 'POST',
      headers: { 'content-type': BATCH_CONTENT_TYPE, authorization: `Bearer ${settings.apiKey}` },
      body,
      signal: AbortSignal.timeout(settings.requestTimeoutMs),
    });
  } catch (err) {
    return { kind: 'unreachable', reason: describeFailure(err, settings.requestTimeoutMs) };
  }
  // The status decides; the body only explains a refusal. Reading it also frees the connection.
  const text = await response.text().catch(() => '');
  if (response.status === 202) return { kind: 'accepted' };
  return refusalOf(response.status, text, response.headers.get('retry-after'));
}
