import { z } from 'zod';
import { EVENTS_DLQ_TOPIC } from '@polaris/shared/contracts';

// The dead-letter watcher's settings (README "Webhooks", "Dead letters growing"), part of the
// rating-worker's config schema; the broker itself is reached with the KAFKA_* settings.

export const deadLetterWatchConfigSchema = z.object({
  // false: this replica does not watch the dead-letter topic (nor needs the broker).
  DEAD_LETTER_WATCH_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  EVENTS_DLQ_TOPIC: z.string().min(1).default(EVENTS_DLQ_TOPIC),
  // The watchers' consumer group. Rating-workers sharing a broker but not a database must each
  // have their own (an alert is for an organization of one database), so when unset it is
  // derived from the database name: `polaris-dead-letter-watch.<database>`.
  DEAD_LETTER_WATCH_GROUP_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'letters, digits, _ . - only').optional(),
  // The window dead letters are counted in, per organization (aligned to the epoch).
  DEAD_LETTER_WINDOW_MS: z.coerce.number().int().min(10_000).max(86_400_000).default(300_000),
  // An organization with at least this many dead letters in one window gets one dead_letters.growing.
  DEAD_LETTER_ALERT_MIN: z.coerce.number().int().min(1).default(10),
});

export type DeadLetterWatchConfig = z.infer<typeof deadLetterWatchConfigSchema>;

/** The group of watchers over one database (DEAD_LETTER_WATCH_GROUP_ID unset). */
export function watchGroupFor(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1)).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
  return name ? `polaris-dead-letter-watch.${name}` : 'polaris-dead-letter-watch';
}
