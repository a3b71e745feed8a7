import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseRows } from '../rows';

/** The event types of the notification catalogue (docs: README "Notifications"). */
export const NOTIFICATION_EVENT_TYPES = [
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.voided',
  'usage.threshold_crossed',
  'meter.backfill_completed',
  'dead_letters.growing',
] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

export interface NotificationEventInput {
  organizationId: string;
  type: NotificationEventType;
  /** The catalogue payload; its schema is fixed per type and version. */
  payload: Record<string, unknown>;
  /** What makes the event happen once, e.g. `invoice.finalized:<invoice id>`. */
  dedupeKey: string;
  occurredAt: Date;
  schemaVersion?: number;
}

const recordedSchema = z.object({ id: z.guid() });

/**
 * Records a notification event in the caller's transaction (the outbox), so the event exists
 * exactly when the change it reports commits. A second record with the same dedupe key is a
 * no-op; returns the new event's id, or undefined when it was already recorded.
 */
async function record(tx: Queryable, input: NotificationEventInput): Promise<string | undefined> {
  const { rows } = await tx.query(
    `INSERT INTO notification_events (organization_id, type, schema_version, payload, dedupe_key, occurred_at)
     VALUES ($1::uuid, $2, $3, $4::jsonb, $5, $6)
     ON CONFLICT (organization_id, dedupe_key) DO NOTHING
     RETURNING id`,
    [input.organizationId, input.type, input.schemaVersion ?? 1, JSON.stringify(input.payload), input.dedupeKey, input.occurredAt],
  );
  return parseRows('notificationEvents.record', recordedSchema, rows)[0]?.id;
}

export const notificationEvents = { record };
