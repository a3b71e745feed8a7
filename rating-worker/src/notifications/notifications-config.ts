import { z } from 'zod';

// The notifier's settings (README "Webhooks"), part of the rating-worker's config schema.

const HOUR_MS = 3_600_000;

export const notificationsConfigSchema = z.object({
  // false: this replica neither dispatches nor delivers (the Webhooks gRPC service still answers).
  NOTIFICATIONS_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  // How often the dispatcher looks for new outbox events: the floor of event → webhook latency.
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(100).default(1_000),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(32),
  // The whole HTTP exchange of one attempt.
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // What is read of an endpoint's answer and kept in the delivery log; the rest is never read.
  WEBHOOK_RESPONSE_EXCERPT_BYTES: z.coerce.number().int().min(0).max(65_536).default(2_048),
  // Attempts per delivery. With the defaults below they span at least 26 h (jitter included).
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(15),
  // The first retry's delay; each next doubles, up to WEBHOOK_BACKOFF_MAX_MS, each ±20 % jitter.
  WEBHOOK_BACKOFF_BASE_MS: z.coerce.number().int().min(10).default(30_000),
  WEBHOOK_BACKOFF_MAX_MS: z.coerce.number().int().min(10).default(6 * HOUR_MS),
  // An endpoint failing (no 2xx) for this long is disabled and its alert email told.
  WEBHOOK_DISABLE_AFTER_MS: z.coerce.number().int().min(1_000).default(72 * HOUR_MS),
  // A pending delivery untouched this long is queued again (its job may have been lost).
  WEBHOOK_STALL_MS: z.coerce.number().int().min(1_000).default(10 * 60_000),
  // true only for tests and local demos: lets webhooks reach loopback and private addresses.
  WEBHOOK_ALLOW_PRIVATE_TARGETS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  // Outgoing email (endpoint disabled, invoice finalized). Unset: no email is sent (logged instead).
  // smtp://user:pass@host:port or smtps://…; the password belongs in a Secret, not a ConfigMap.
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'expected an smtp:// or smtps:// URL').optional(),
  SMTP_FROM: z.string().default('Polaris <notifications@polaris.invalid>'),
});

export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
