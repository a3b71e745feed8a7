import { periodContaining, type BillingPeriod, type BillingSchedule } from '@polaris/shared/billing';
import type { Subscription } from './billing-records';

// Where a subscription stands in time. Periods are computed, never stored (shared/src/billing):
// from the anchor, start_at and the time zone the subscription was made in.

export const scheduleOf = (s: Pick<Subscription, 'billingAnchor' | 'startAt' | 'timeZone'>): BillingSchedule => ({
  anchor: s.billingAnchor,
  startAt: s.startAt,
  timeZone: s.timeZone,
});

/** The period holding `now`; before the subscription starts, its first period. */
export function currentPeriod(s: Pick<Subscription, 'billingAnchor' | 'startAt' | 'timeZone'>, now: Date = new Date()): BillingPeriod {
  return periodContaining(scheduleOf(s), now);
}
