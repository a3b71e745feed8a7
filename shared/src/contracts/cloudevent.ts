import { z } from 'zod';
import { PolarisError } from '../errors';
import { findJsonProblem, isWellFormedUnicode, MAX_DATA_DEPTH, NOT_WELL_FORMED } from './json-limits';

export { MAX_DATA_DEPTH } from './json-limits';

/** Largest `data` we store per event, serialized. Usage events are small; big blobs are a bug. */
export const MAX_EVENT_DATA_BYTES = 64 * 1024;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * How far from its receipt an event's `time` may be. Further ahead is a clock bug, not usage;
 * further back is usage billing no longer takes (Stripe's window is 35 days too). The collector
 * sets both from its config (EVENT_MAX_AGE_DAYS, EVENT_MAX_FUTURE_HOURS).
 */
export interface EventTimeWindow {
  maxAgeMs: number;
  maxFutureMs: number;
}

export const DEFAULT_EVENT_TIME_WINDOW: EventTimeWindow = { maxAgeMs: 35 * DAY_MS, maxFutureMs: 24 * HOUR_MS };

/** No window at all: for a caller that leaves the window to the collector (the gateway). */
export const ANY_EVENT_TIME: EventTimeWindow = { maxAgeMs: Number.POSITIVE_INFINITY, maxFutureMs: Number.POSITIVE_INFINITY };
/** DateTime in ClickHouse ends in 2106; we stop well before. */
export const MAX_EVENT_TIME_MS = Date.UTC(2100, 0, 1);

/** ClickHouse refuses lone surrogates (Code 25), so a string it cannot store is refused here. */
const wellFormed = (s: z.ZodString) => s.refine(isWellFormedUnicode, NOT_WELL_FORMED);
const attribute = (max: number) =>
  wellFormed(z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

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
  datacontenttype: wellFormed(z.string().regex(/^application\/(.+\+)?json(;.*)?$/, 'only JSON data is accepted')).optional(),
  // Values are not walked here (z.unknown): checkStorableEvent walks them iteratively.
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

/** What is wrong with an event and where; `field` is prefixed with the caller's path. */
export interface EventProblem {
  field: string;
  reason: string;
}

function invalid(field: string, message: string): PolarisError {
  return new PolarisError('invalid_argument', 'invalid_event', `${field}: ${message}`, field);
}

/**
 * The one check, shared by every producer (collector HTTP and Ingest gRPC, through
 * normalizeCloudEvent) and the sink's topic decoder (eventMessageSchema), that an event can be
 * stored: well-formed Unicode in every attribute and in every key and string of `data`, `data` at
 * most MAX_DATA_DEPTH deep and MAX_EVENT_DATA_BYTES of JSON, time within what ClickHouse holds.
 * The depth walk comes first and is iterative: only after it is JSON.stringify safe to call.
 */
export function checkStorableEvent(event: NormalizedEvent, path = ''): EventProblem | undefined {
  const checked = storableEventData(event, path);
  return 'problem' in checked ? checked.problem : undefined;
}

/**
 * checkStorableEvent, also returning `data` as the JSON it measured: the sink stores exactly that
 * text, and serializing it twice cost ~0.5 µs a message (bench:sink, --cpu-prof).
 */
export function storableEventData(event: NormalizedEvent, path = ''): { problem: EventProblem } | { dataJson: string } {
  for (const name of ['id', 'source', 'type', 'subject'] as const) {
    if (!isWellFormedUnicode(event[name])) return { problem: { field: `${path}${name}`, reason: NOT_WELL_FORMED } };
  }
  const problem = findJsonProblem(event.data, `${path}data`, MAX_DATA_DEPTH);
  if (problem) return { problem };
  const dataJson = JSON.stringify(event.data);
  if (Buffer.byteLength(dataJson) > MAX_EVENT_DATA_BYTES) {
    return { problem: { field: `${path}data`, reason: `must be at most ${MAX_EVENT_DATA_BYTES} bytes of JSON` } };
  }
  if (!Number.isSafeInteger(event.timeMs) || event.timeMs < 0 || event.timeMs >= MAX_EVENT_TIME_MS) {
    return { problem: { field: `${path}time`, reason: 'must be between 1970 and 2100' } };
  }
  return { dataJson };
}

/**
 * RFC 3339 date-time with an explicit offset (`t`/`z` may be lower case, as RFC 3339 allows).
 * The components are checked by hand: `Date.parse` rolls Feb 30 over into March.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/i;
const RFC3339_HINT = 'must be an RFC 3339 timestamp with a time zone, e.g. 2026-01-31T12:00:00.123Z';

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Epoch ms of a calendar time; setUTCFullYear, unlike Date.UTC, keeps years 0–99 as written. */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime();
}

/** Epoch ms of an RFC 3339 time; any time between 1970 and 2100 (the window is checked apart). */
export function parseEventTime(value: string, field: string): number {
  const m = RFC3339.exec(value);
  if (!m) throw invalid(field, RFC3339_HINT);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) throw invalid(field, `month ${m[2]} does not exist`);
  if (day < 1 || day > daysInMonth(year, month)) throw invalid(field, `day ${m[3]} does not exist in ${m[1]}-${m[2]}`);
  if (hour > 23) throw invalid(field, 'hour must be 00 to 23');
  if (minute > 59) throw invalid(field, 'minute must be 00 to 59');
  // ClickHouse DateTime and JavaScript time have no leap seconds, so 60 cannot be stored as sent.
  if (second > 59) throw invalid(field, 'second must be 00 to 59 (leap seconds are not accepted)');
  const [sign, offHours, offMinutes] = [m[8], Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (offHours > 23 || offMinutes > 59) throw invalid(field, 'the offset must be between -23:59 and +23:59');
  // Kept to the millisecond; further digits are dropped, not rounded (as Date.parse does).
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetMs = (sign === '-' ? -1 : 1) * (offHours * 60 + offMinutes) * 60_000;
  const ms = utcMs(year, month, day, hour, minute, second, millis) - offsetMs;
  if (ms < 0 || ms >= MAX_EVENT_TIME_MS) throw invalid(field, 'must be between 1970 and 2100');
  return ms;
}

/** "35 days", "24 hours", "90 minutes": a window bound as a person reads it. */
function spoken(ms: number): string {
  if (ms % DAY_MS === 0 && ms > DAY_MS) return `${ms / DAY_MS} days`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} hour${ms === HOUR_MS ? '' : 's'}`;
  return `${Math.round(ms / 60_000)} minutes`;
}

/** Refuses a time outside the window around `nowMs`, naming the field and the bound. */
export function checkEventTimeWindow(timeMs: number, field: string, nowMs: number, window: EventTimeWindow): void {
  if (timeMs > nowMs + window.maxFutureMs) throw invalid(field, `is more than ${spoken(window.maxFutureMs)} in the future`);
  if (timeMs < nowMs - window.maxAgeMs) {
    throw invalid(field, `is more than ${spoken(window.maxAgeMs)} in the past; events older than that are not accepted`);
  }
}

/**
 * Validates one structured CloudEvent. `path` prefixes field names (e.g. "[3]." in a batch) so
 * the caller learns exactly which attribute of which event is wrong. A `time` outside `window`
 * around `nowMs` is refused; an event without one is dated `nowMs`.
 */
export function normalizeCloudEvent(input: unknown, nowMs: number, path = '', window: EventTimeWindow = DEFAULT_EVENT_TIME_WINDOW): NormalizedEvent {
  const parsed = cloudEventSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `${path}${issue?.path.join('.') || 'event'}`;
    throw invalid(field, issue?.message ?? 'is not a CloudEvent');
  }
  const ev = parsed.data;
  const event: NormalizedEvent = {
    id: ev.id,
    source: ev.source,
    type: ev.type,
    subject: ev.subject,
    timeMs: ev.time === undefined ? nowMs : parseEventTime(ev.time, `${path}time`),
    data: ev.data ?? {},
  };
  const problem = checkStorableEvent(event, path);
  if (problem) throw invalid(problem.field, problem.reason);
  if (ev.time !== undefined) checkEventTimeWindow(event.timeMs, `${path}time`, nowMs, window);
  return event;
}
