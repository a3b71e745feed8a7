import { postBatch, type CollectorAnswer, type TransportSettings } from './collector-transport.js';
import type { PreparedEvent } from './prepare-event.js';
import { isRetryableStatus, retryAfterMs, retryDelayMs, type BackoffSettings } from './retry-policy.js';
import type { RejectedEvent } from './types.js';

export interface DeliverySettings extends TransportSettings, BackoffSettings {
  maxRetries: number;
}

export interface DeliveryClock {
  sleep(ms: number): Promise<void>;
  random(): number;
  now(): number;
}

/** What became of each event of a batch. Every event ends in exactly one of the three lists. */
export interface DeliveryOutcome {
  sent: PreparedEvent[];
  rejected: Array<{ prepared: PreparedEvent; rejection: RejectedEvent }>;
  /** Every retry of these failed (network, 408, 429, 5xx): they stay buffered. */
  undelivered: PreparedEvent[];
  /** Why the last attempt failed, when some are undelivered. */
  reason?: string;
  /** Events sent again after a failed attempt. */
  retried: number;
  /** The collector refused a batch as too large for this organization: send at most this many per request. */
  smallerBatch?: number;
}

type Refusal = Extract<CollectorAnswer, { kind: 'refused' }>;

/** A refusal that names one event of the batch: `[3].time` is the 4th event's `time`. */
const EVENT_FIELD = /^\[(\d+)\](?:\.(.*))?$/;

function rejection(prepared: PreparedEvent, refusal: Refusal, field: string | undefined, message: string) {
  return { prepared, rejection: { event: prepared.event, status: refusal.status, code: refusal.code, message, ...(field ? { field } : {}) } };
}

interface Part {
  events: PreparedEvent[];
  attempt: number;
}

/**
 * A refusal that retrying the same request cannot change. Returns the parts still worth sending:
 * - 413 (too many events for the organization's rate limit, too many bytes): the batch is split in
 *   halves, each sent on its own; one event alone that is still too large is rejected;
 * - 400 naming one event (`[3].time`): the collector checks events in order and refuses the whole
 *   request at the first bad one, so that event is rejected and the others are sent again;
 * - anything else (401 invalid_api_key, 403 missing_scope, 415, …): every event is rejected.
 */
function afterRefusal(part: Part, refusal: Refusal, outcome: DeliveryOutcome): Part[] {
  const { events } = part;
  if (refusal.status === 413 && events.length > 1) {
    const half = Math.ceil(events.length / 2);
    if (refusal.code === 'batch_exceeds_rate_limit' || refusal.code === 'batch_too_large') {
      outcome.smallerBatch = Math.min(outcome.smallerBatch ?? half, half);
    }
    return [
      { events: events.slice(0, half), attempt: part.attempt },
      { events: events.slice(half), attempt: part.attempt },
    ];
  }
  const named = refusal.field === undefined ? null : EVENT_FIELD.exec(refusal.field);
  const index = named ? Number(named[1]) : -1;
  const culprit = events[index];
  if (named && culprit) {
    const prefix = `${refusal.field}: `;
    const field = named[2];
    const message = refusal.message.startsWith(prefix) ? `${field ?? 'event'}: ${refusal.message.slice(prefix.length)}` : refusal.message;
    outcome.rejected.push(rejection(culprit, refusal, field, message));
    const rest = events.filter((_, i) => i !== index);
    return rest.length > 0 ? [{ events: rest, attempt: part.attempt }] : [];
  }
  for (const prepared of events) outcome.rejected.push(rejection(prepared, refusal, refusal.field, refusal.message));
  return [];
}

/**
 * Sends one batch until every event is accepted, rejected for good, or out of retries. Each
 * request (a batch, or a half of one after a 413) gets `maxRetries` retries of its own, so the
 * work is bounded: halves only shrink, and each refusal naming an event removes that event.
 * A retry sends the very same JSON, ids included, so an attempt that reached the collector and
 * lost only its answer is stored once.
 */
export async function deliverBatch(events: PreparedEvent[], settings: DeliverySettings, clock: DeliveryClock): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { sent: [], rejected: [], undelivered: [], retried: 0 };
  const parts: Part[] = [{ events, attempt: 0 }];
  for (let part = parts.shift(); part; part = parts.shift()) {
    const answer = await postBatch(settings, part.events);
    if (answer.kind === 'accepted') {
      outcome.sent.push(...part.events);
      continue;
    }
    if (answer.kind === 'refused' && !isRetryableStatus(answer.status)) {
      parts.unshift(...afterRefusal(part, answer, outcome));
      continue;
    }
    if (part.attempt >= settings.maxRetries) {
      outcome.undelivered.push(...part.events, ...parts.flatMap((p) => p.events));
      outcome.reason = answer.kind === 'unreachable' ? answer.reason : `${answer.status} ${answer.code}: ${answer.message}`;
      break;
    }
    const retryAfter = answer.kind === 'refused' ? retryAfterMs(answer.retryAfter, clock.now()) : undefined;
    await clock.sleep(retryDelayMs(part.attempt, retryAfter, settings, clock.random));
    outcome.retried += part.events.length;
    parts.unshift({ events: part.events, attempt: part.attempt + 1 });
  }
  return outcome;
}
