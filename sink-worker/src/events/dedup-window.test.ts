import { describe, expect, it } from 'vitest';
import { beyondDedupWindow, conflicts, dedupConfigSchema, dedupWindow, MIN_DEDUP_WINDOW_DAYS, payloadFingerprint, probeSinceDay } from './dedup-window';

const DAY = 86_400_000;

describe('the dedup window', () => {
  it('is at least the collector backdating limit plus its future limit (36 days), 37 by default, and says so when set lower', () => {
    expect(MIN_DEDUP_WINDOW_DAYS).toBe(36);
    expect(dedupConfigSchema.parse({}).SINK_DEDUP_WINDOW_DAYS).toBe(37);
    expect(dedupConfigSchema.parse({ SINK_DEDUP_WINDOW_DAYS: '90' }).SINK_DEDUP_WINDOW_DAYS).toBe(90);
    const refused = dedupConfigSchema.safeParse({ SINK_DEDUP_WINDOW_DAYS: '30' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(['SINK_DEDUP_WINDOW_DAYS']);
  });

  it('probes from the window before the earliest receipt, one day more, by UTC day', () => {
    const w = dedupWindow(37);
    expect(probeSinceDay(Date.UTC(2026, 2, 10, 0, 0, 1), w)).toBe('2026-01-31');
    expect(probeSinceDay(Date.UTC(2026, 2, 10, 23, 59, 59), w)).toBe('2026-01-31');
  });

  it('reaches every earlier copy the collector could have accepted: such a copy was received at most 36 days earlier', () => {
    const w = dedupWindow(MIN_DEDUP_WINDOW_DAYS);
    const received = Date.UTC(2026, 2, 10, 12);
    // The oldest event time the collector accepts (35 days), whose first copy came 24 h "early".
    const timeMs = received - 35 * DAY;
    expect(beyondDedupWindow(timeMs, received, w)).toBe(false);
    const firstCopyReceived = timeMs - w.maxFutureMs;
    expect(new Date(firstCopyReceived).toISOString().slice(0, 10) >= probeSinceDay(received, w)).toBe(true);
    // Older than anything the collector lets through: only a message that bypassed it.
    expect(beyondDedupWindow(received - 35 * DAY - 1, received, w)).toBe(true);
  });

  it('fingerprints type, subject, time and data; never 0, which means unknown and conflicts with nothing', () => {
    const a = payloadFingerprint('t', 's', 1, '{"n":1}');
    expect(a).toMatch(/^[1-9]\d*$/);
    expect(payloadFingerprint('t', 's', 1, '{"n":1}')).toBe(a);
    for (const other of [payloadFingerprint('u', 's', 1, '{"n":1}'), payloadFingerprint('t', 'x', 1, '{"n":1}'), payloadFingerprint('t', 's', 2, '{"n":1}'), payloadFingerprint('t', 's', 1, '{"n":2}')]) {
      expect(other).not.toBe(a);
      expect(conflicts(a, other)).toBe(true);
    }
    expect(conflicts('0', a)).toBe(false);
    expect(conflicts(a, a)).toBe(false);
  });
});
