import { context, isSpanContextValid, propagation, SpanKind, SpanStatusCode, trace, type Link, type Span, type TextMapGetter } from '@opentelemetry/api';

type HeaderValue = string | string[] | Buffer | (string | Buffer)[] | undefined;

/** Reads W3C trace context from HTTP request headers or broker message headers alike. */
export const headerGetter: TextMapGetter<Record<string, HeaderValue>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.map(String);
    return String(value);
  },
};

const tracer = () => trace.getTracer('polaris');

/** Runs `fn` in `span`, marks the span failed when `fn` throws, and always ends it. */
async function endingSpan<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs `fn` as the active span `name`, continuing the caller's trace from `headers` (HTTP
 * entry points). Everything `fn` starts — gRPC calls, broker sends — joins the same trace.
 */
export function inServerSpan<T>(name: string, headers: Record<string, HeaderValue>, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = propagation.extract(context.active(), headers, headerGetter);
  return tracer().startActiveSpan(name, { kind: SpanKind.SERVER }, parent, (span) => endingSpan(span, fn));
}

/**
 * A consumer span for a batch of messages: it cannot have one parent, so it links to each
 * message's producer trace (up to `maxLinks`) instead.
 */
export function inBatchSpan<T>(
  name: string,
  messageHeaders: Array<Record<string, HeaderValue> | undefined>,
  fn: (span: Span) => Promise<T>,
  maxLinks = 128,
): Promise<T> {
  const links: Link[] = [];
  for (const headers of messageHeaders.slice(0, maxLinks)) {
    if (!headers) continue;
    const spanContext = trace.getSpanContext(propagation.extract(context.active(), headers, headerGetter));
    if (spanContext) links.push({ context: spanContext });
  }
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, links }, (span) => endingSpan(span, fn));
}

/** The trace id of the active span (an HTTP request's, an RPC's), if there is one. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
