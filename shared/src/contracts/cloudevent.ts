import { z } from 'zod';
import { PolarisError } from '../errors';

/** Largest `data` we store per event, serialized. Usage events are small; big blobs are a bug. */
export const MAX_EVENT_DATA_BYTES = 64 * 1024;
/** Events dated further ahead than this are refused: a clock bug, not usage. */
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;
/** DateTime in ClickHouse ends in 2106; we stop well before. */
const MAX_TIME_MS = Date.UTC(2100, 0, 1);

const attribute = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/**
 * CloudEvents 1.0, structured JSON mode. `subject` is required: it is the customer the usage is
 * billed to. `time` is optional and defaults to the moment the collector received the event.
 * Extension attributes are allowed by the spec and ignored here.
 */
export const cloudEventSchema = z.object({
  specversion: z.literal('1.0', { error: 'must be "1.0"' }),
  id: attribute(256),
  source: attribute(512),
  type: attribute(256).regex(/^[A-Za-z0-9._:/-]+$/, 'may contain only letters, digits and . _ : / -'),
  subject: attribute(256),
  time: z.string().optional(),
  datacontenttype: z
    .string()
    .regex(/^application\/(.+\+)?json(;.*)?$/, 'only JSON data is accepted')
    .optional(),
  data: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }).optional(),
});

/** An event after validation, as it travels through the broker. */
export interface NormalizedEvent {
  id: string;
  source: string;
  type: string;
  subject: string;
  /** Event time, epoch milliseconds, UTC. */
  timeMs: number;
  data: Record<string, unknown>;
}

function invalid(field: string, message: string): PolarisError {
  return new PolarisError('invalid_argument', 'invalid_event', `${field}: ${message}`, field);
}

/** RFC 3339 with an explicit offset; `Date.parse` alone accepts far too much. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export function parseEventTime(value: string, field: string, nowMs: number): number {
  if (!RFC3339.test(value)) throw invalid(field, 'must be an RFC 3339 timestamp with a time zone, e.g. 2026-01-31T12:00:00.123Z');
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(field, 'is not a valid date');
  if (ms < 0 || ms >= MAX_TIME_MS) throw invalid(field, 'must be between 1970 and 2100');
  if (ms > nowMs + MAX_FUTURE_SKEW_MS) throw invalid(field, 'is more than 24 hours in the future');
  return ms;
}

/**
 * Validates one structured CloudEvent. `path` prefixes field names (e.g. "[3]." in a batch) so
 * the caller learns exactly which attribute of which event is wrong.
 */
export function normalizeCloudEvent(input: unknown, nowMs: number, path = ''): NormalizedEvent {
  const parsed = cloudEventSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `${path}${issue?.path.join('.') || 'event'}`;
    throw invalid(field, issue?.message ?? 'is not a CloudEvent');
  }
  const ev = parsed.data;
  const data = ev.data ?? {};
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_EVENT_DATA_BYTES) {
    throw invalid(`${path}data`, `must be at most ${MAX_EVENT_DATA_BYTES} bytes of JSON`);
  }
  return {
    id: ev.id,
    source: ev.source,
    type: ev.type,
    subject: ev.subject,
    timeMs: ev.time === undefined ? nowMs : parseEventTime(ev.time, `${path}time`, nowMs),
    data,
  };
}
