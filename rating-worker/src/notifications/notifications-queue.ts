import { z } from 'zod';

// The notifications queue's contract: its name, jobs, payloads and job ids. It shares the rating
// queue's Redis key prefix (RATING_QUEUE_PREFIX or `bull-<database>`), so systems sharing a Redis
// never take each other's jobs. Payload fields are only ever added, optional.

export const NOTIFICATIONS_QUEUE = 'notifications';

export const NOTIFICATION_JOBS = {
  /** Repeated by the job scheduler of the same name: fans outbox events out, requeues stalled deliveries. */
  dispatch: 'webhook-dispatch',
  /** One delivery, retried with backoff until a 2xx or its attempts run out. */
  deliver: 'webhook-deliver',
  /** One email (template + recipient), retried. */
  email: 'email',
} as const;

export const deliverPayload = z.object({
  organizationId: z.guid(),
  deliveryId: z.guid(),
  /** 0 for the delivery's first run; n for its n-th replay. */
  replay: z.number().int().nonnegative(),
});
export type DeliverPayload = z.infer<typeof deliverPayload>;

/**
 * `<delivery id>` for the first run, `<delivery id>.r<n>` for the n-th replay: BullMQ ignores an add
 * whose id it holds, so the dispatcher, the stall sweep and replicas queue each run once.
 */
export const deliverJobId = (p: { deliveryId: string; replay: number }): string => (p.replay === 0 ? p.deliveryId : `${p.deliveryId}.r${p.replay}`);

export const emailPayload = z.object({
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string().optional(),
});
export type EmailPayload = z.infer<typeof emailPayload>;

/** Completed jobs a day (bull-board), failed deliveries a week: the delivery log keeps the history. */
export const KEEP_COMPLETED = { age: 24 * 3600, count: 100_000 } as const;
export const KEEP_FAILED = { age: 7 * 24 * 3600 } as const;

