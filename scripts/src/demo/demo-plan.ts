import { firstPeriod, truncateToMinute, type BillingPeriod } from '@polaris/shared/billing';

// What the demo bills: one plan priced on the demo meters (demo-meters.ts) with every price model,
// and a customer per subject of the sample traffic (sample-events.ts).

/**
 * `demo_pro`, in the proto's field names as `polaris plan create --prices` takes them. With the
 * demo's traffic (about 90 calls and 50,000 tokens per customer in the closed period) each model
 * shows up on the invoice: the free quota and the graduated tiers bite, the volume tier depends
 * on the customer's seats.
 */
export const DEMO_PLAN = {
  key: 'demo_pro',
  name: 'Demo Pro',
  description: 'The plan of `polaris demo`: every price model on the demo meters',
  currency: 'USD',
  prices: [
    { key: 'platform', name: 'Platform fee', model: 'FLAT', amount: '49' },
    { key: 'api_calls', name: 'API calls', model: 'PER_UNIT', meter_slug: 'api_calls', unit_price: '0.10', free_quota: '50' },
    {
      key: 'tokens',
      name: 'LLM tokens',
      model: 'GRADUATED',
      meter_slug: 'tokens',
      tiers: [
        { up_to: '10000', unit_price: '0' },
        { up_to: '40000', unit_price: '0.0005' },
        { unit_price: '0.0002', flat_fee: '2' },
      ],
    },
    {
      key: 'seats',
      name: 'Seats',
      model: 'VOLUME',
      meter_slug: 'seats',
      tiers: [
        { up_to: '10', unit_price: '8' },
        { up_to: '25', unit_price: '6' },
        { unit_price: '4' },
      ],
    },
    { key: 'active_users', name: 'Active users', model: 'PACKAGE', meter_slug: 'active_users', package_size: '3', package_price: '10' },
  ],
} as const;

/** One customer per subject of the sample traffic, billed in the plan's currency. */
export const DEMO_CUSTOMERS = [
  { externalId: 'acme', name: 'Acme Corp', subjects: ['acme'] },
  { externalId: 'globex', name: 'Globex', subjects: ['globex'] },
  { externalId: 'initech', name: 'Initech', subjects: ['initech'] },
] as const;

/**
 * How long ago the first period of a new demo subscription closed: more than the rating-worker's
 * settle delay (RATING_SETTLE_MS, 5 min), so it is rated at once, and less than the grace before a
 * draft is finalized by itself (INVOICE_GRACE_MS, 1 h), so the demo finalizes it.
 */
export const CLOSED_AGO_MS = 10 * 60_000;

/**
 * The same instant one calendar month earlier (UTC), its day clamped to that month's last day.
 * An anniversary subscription starting then has its first period end at `end`; when clamped
 * (`end` on the 29th–31st after a shorter month) a few days earlier, which is still closed.
 */
export function oneMonthBefore(end: Date): Date {
  const start = new Date(end);
  start.setUTCDate(0); // the previous month's last day, same time of day
  start.setUTCDate(Math.min(end.getUTCDate(), start.getUTCDate()));
  return start;
}

/** When a new demo subscription starts (whole minutes, as stored) and its first, closed, period. */
export function closedFirstPeriod(nowMs: number): { startAt: Date; period: BillingPeriod } {
  const startAt = truncateToMinute(oneMonthBefore(new Date(nowMs - CLOSED_AGO_MS)));
  return { startAt, period: firstPeriod({ anchor: 'anniversary', startAt, timeZone: 'UTC' }) };
}
