import { InvalidEventError } from './errors.js';
import { isWellFormed, serializeData, utf8Length } from './event-data.js';
import type { TrackedEvent, TrackEvent } from './types.js';

/** An event fixed at `track`: its attributes, and the JSON that every attempt sends unchanged. */
export interface PreparedEvent {
  /** Order of tracking, so a flush knows which events were buffered before it was called. */
  seq: number;
  event: TrackedEvent;
  json: string;
  /** UTF-8 bytes of `json`, to keep a request under the collector's body limit. */
  bytes: number;
}

const TYPE_PATTERN = /^[A-Za-z0-9._:/-]+$/;
/** RFC 3339 with a zone, as the collector reads `time` (`Date.parse` alone takes far more). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
/** The collector stores times from 1970 until 2100 (ClickHouse DateTime). */
const MAX_TIME_MS = Date.UTC(2100, 0, 1);

function attribute(event: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = event[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new InvalidEventError(name, `must be a non-empty string, got ${JSON.stringify(value) ?? typeof value}`);
  if (value.length > max) throw new InvalidEventError(name, `must be at most ${max} characters, got ${value.length}`);
  if (!isWellFormed(value)) throw new InvalidEventError(name, 'is not well-formed Unicode (it contains a lone surrogate)');
  return value;
}

function required(event: Record<string, unknown>, name: string, max: number, hint: string): string {
  const value = attribute(event, name, max);
  if (value === undefined) throw new InvalidEventError(name, `is required: ${hint}`);
  return value;
}

function timeOf(value: unknown, now: Date): string {
  if (value === undefined) return now.toISOString();
  let ms: number;
  let text: string;
  if (value instanceof Date) {
    ms = value.getTime();
    if (Number.isNaN(ms)) throw new InvalidEventError('time', 'is an invalid Date');
    text = value.toISOString();
  } else if (typeof value === 'string') {
    ms = Date.parse(value);
    if (!RFC3339.test(value) || Number.isNaN(ms)) throw new InvalidEventError('time', `must be a Date or an RFC 3339 timestamp with a time zone (2026-01-31T12:00:00.123Z), got ${JSON.stringify(value)}`);
    text = value;
  } else {
    throw new InvalidEventError('time', `must be a Date or an RFC 3339 string, got ${typeof value}`);
  }
  if (ms < 0 || ms >= MAX_TIME_MS) throw new InvalidEventError('time', `must be between 1970 and 2100, got ${text}`);
  return text;
}

/**
 * Checks an event as the collector would and fixes what retries must repeat exactly: the id
 * (a random UUID unless given), the source and the time (now unless given). Throws
 * InvalidEventError naming the attribute at fault.
 */
export function prepareEvent(input: TrackEvent, defaults: { source: string; now: Date; seq: number }): PreparedEvent {
  if (typeof input !== 'object' || input === null) throw new InvalidEventError('event', 'must be an object with at least type and subject');
  const raw = input as unknown as Record<string, unknown>;
  const type = required(raw, 'type', 256, 'what happened, e.g. "api.request"');
  if (!TYPE_PATTERN.test(type)) throw new InvalidEventError('type', `may contain only letters, digits and . _ : / -, got ${JSON.stringify(type)}`);
  const event: TrackedEvent = {
    id: attribute(raw, 'id', 256) ?? globalThis.crypto.randomUUID(),
    source: attribute(raw, 'source', 512) ?? defaults.source,
    type,
    subject: required(raw, 'subject', 256, 'the customer billed for this event'),
    time: timeOf(raw.time, defaults.now),
  };
  const attributes = JSON.stringify({ specversion: '1.0', ...event });
  let json = attributes;
  if (raw.data !== undefined) {
    event.data = raw.data as Record<string, unknown>;
    json = `${attributes.slice(0, -1)},"data":${serializeData(raw.data)}}`;
  }
  return { seq: defaults.seq, event, json, bytes: utf8Length(json) };
}
