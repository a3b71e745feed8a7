import { hash } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_EVENT_TIME_WINDOW } from '@polaris/shared/contracts';

const DAY_MS = 86_400_000;

/**
 * The shortest window that still catches every copy the collector lets through: a copy is
 * accepted only if its event time is at most 35 days old and at most 24 h ahead of its receipt,
 * so any two accepted copies of one event were received at most 36 days apart
 * (docs/ARCHITECTURE.md, "Idempotency", step 3).
 */
export const MIN_DEDUP_WINDOW_DAYS = Math.ceil((DEFAULT_EVENT_TIME_WINDOW.maxAgeMs + DEFAULT_EVENT_TIME_WINDOW.maxFutureMs) / DAY_MS);

export const dedupConfigSchema = z.object({
  /**
   * How long after the first copy of an event was received a copy of it is still recognised
   * (by ingestion time). At least MIN_DEDUP_WINDOW_DAYS: shorter, a late retry the collector
   * accepted would be stored twice. The probe reads this many days of event_identities_v2.
   */
  SINK_DEDUP_WINDOW_DAYS: z.coerce.number().int().min(MIN_DEDUP_WINDOW_DAYS).max(36_600).default(MIN_DEDUP_WINDOW_DAYS + 1),
  /**
   * The longest a message may wait in the events topic before the sink reads it (the broker's
   * retention; Kafka's and Redpanda's default is 7 days). A batch probes back from its own
   * receipt time, so identity days are kept for the window plus this plus 2 days
   * (identityRetentionDays), then dropped by the sink.
   */
  SINK_BROKER_RETENTION_DAYS: z.coerce.number().int().min(0).max(3_650).default(7),
});

/** How many days of event_identities_v2 the sink keeps: older days are dropped (identity-retention.ts). */
export const identityRetentionDays = (cfg: { SINK_DEDUP_WINDOW_DAYS: number; SINK_BROKER_RETENTION_DAYS: number }): number =>
  cfg.SINK_DEDUP_WINDOW_DAYS + cfg.SINK_BROKER_RETENTION_DAYS + 2;

export interface DedupWindow {
  windowMs: number;
  /** How far ahead of its receipt an event time may be (the collector's limit). */
  maxFutureMs: number;
}

export const dedupWindow = (days: number): DedupWindow => ({ windowMs: days * DAY_MS, maxFutureMs: DEFAULT_EVENT_TIME_WINDOW.maxFutureMs });

/**
 * The first ingestion day a batch's probe reads: the window before its earliest receipt, one
 * day more for collectors' clocks and day boundaries. From the messages only, so a replay of the
 * batch reads exactly the same days.
 */
export function probeSinceDay(earliestReceivedAtMs: number, w: DedupWindow): string {
  return new Date(earliestReceivedAtMs - w.windowMs - DAY_MS).toISOString().slice(0, 10);
}

/**
 * Whether an event is too old for the window to prove it was never stored before: an earlier
 * copy was received no earlier than `timeMs - maxFutureMs`, which the probe must reach. The
 * collector never lets such an event through (35 days < window); only a message written to the
 * topic some other way can be one, and storing it could count it twice.
 */
export function beyondDedupWindow(timeMs: number, receivedAtMs: number, w: DedupWindow): boolean {
  return timeMs - w.maxFutureMs < receivedAtMs - w.windowMs;
}

/**
 * What makes two copies of one identity the same event: type, subject, time and data, as the
 * sink stores them. The first 8 bytes of a SHA-256, as UInt64 text (event_identities_v2);
 * never '0', which stands for "stored before fingerprints".
 */
export function payloadFingerprint(type: string, subject: string, timeMs: number, data: string): string {
  // One-shot over one string: the same bytes as four update() calls, at a third of the cost per event.
  const digest = hash('sha256', `${type}\n${subject}\n${timeMs}\n${data}`, 'buffer');
  const value = digest.readBigUInt64BE(0);
  return (value === 0n ? 1n : value).toString();
}

/** A stored fingerprint that differs from a copy's: '0' (unknown) never does. */
export const conflicts = (stored: string, candidate: string): boolean => stored !== '0' && stored !== candidate;
