import { notificationEvents, organizations, withOrg, type Pool } from '@polaris/postgres';
import type { AlertOutcome } from './dead-letter-metrics';
import type { GrowingWindow } from './dead-letter-windows';

/** One alert per organization and window, however often the letters are read again. */
export const growingDedupeKey = (w: Pick<GrowingWindow, 'organizationId' | 'windowStart'>): string =>
  `dead_letters.growing:${w.organizationId}:${new Date(w.windowStart).toISOString()}`;

/**
 * Records `dead_letters.growing` for `w` in the organization's outbox (catalogue payload v1). A
 * well-formed organization id that names no organization here (a letter from another Polaris
 * sharing the broker, a deleted organization) is reported, not recorded.
 */
export async function recordGrowingWindow(pool: Pool, topic: string, w: GrowingWindow): Promise<AlertOutcome> {
  return withOrg(pool, w.organizationId, async (tx) => {
    if (!(await organizations.findById(tx, w.organizationId))) return 'unknown_organization';
    const id = await notificationEvents.record(tx, {
      organizationId: w.organizationId,
      type: 'dead_letters.growing',
      payload: { topic, count: w.count, windowStart: new Date(w.windowStart).toISOString(), windowEnd: new Date(w.windowEnd).toISOString() },
      dedupeKey: growingDedupeKey(w),
      occurredAt: new Date(w.latestAtMs),
    });
    return id === undefined ? 'already_recorded' : 'recorded';
  });
}
