import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import type { AttemptResult, QueuedDelivery } from './webhook-deliveries.repository';
import { markEndpointFailing, markEndpointHealthy, signingSecrets, type SigningSecrets, type WebhookEndpoint } from './webhook-endpoints.repository';

// The notifier's reads and writes (rating-worker/src/notifications): the fan-out of outbox events
// into deliveries, what one delivery attempt needs, and its outcome. Cross-organization reads go
// through the SECURITY DEFINER functions of migration 008 (ids only); the rest runs under withOrg.

const idAndOrg = z.object({ id: z.guid(), organization_id: z.guid() });

/** Events whose fan-out has not happened yet, oldest first (every org). */
async function undispatchedEvents(db: Queryable, limit: number): Promise<Array<{ eventId: string; organizationId: string }>> {
  const { rows } = await db.query('SELECT id, organization_id FROM polaris_undispatched_notification_events($1)', [limit]);
  return parseRows('webhookDispatch.undispatched', idAndOrg, rows).map((r) => ({ eventId: r.id, organizationId: r.organization_id }));
}

/** Pending deliveries untouched for idleMs (every org): their job may be lost, so they are queued again. */
async function stalledDeliveries(db: Queryable, idleMs: number, limit: number): Promise<QueuedDelivery[]> {
  const { rows } = await db.query('SELECT id, organization_id, replays FROM polaris_stalled_webhook_deliveries($1, $2)', [idleMs, limit]);
  return parseRows('webhookDispatch.stalled', idAndOrg.extend({ replays: z.number().int() }), rows).map((r) => ({
    deliveryId: r.id,
    organizationId: r.organization_id,
    replays: r.replays,
  }));
}

/**
 * The fan-out of some of one organization's events, in one transaction: a delivery per enabled
 * endpoint whose filter takes an event's type (unique per event and endpoint, so repeating it adds
 * nothing), then the events are marked dispatched. Returns the deliveries this call created, for
 * the caller to queue after the commit, and the events it dispatched; events already dispatched
 * (or being dispatched by another replica: SKIP LOCKED) are left out.
 */
async function fanOut(
  db: Transactable,
  organizationId: string,
  eventIds: readonly string[],
): Promise<{ deliveries: QueuedDelivery[]; events: Array<{ id: string; type: string; payload: unknown }> }> {
  return withOrg(db, organizationId, async (tx) => {
    const { rows } = await tx.query(
      `SELECT id, type, payload FROM notification_events
        WHERE organization_id = $1 AND id = ANY ($2::uuid[]) AND dispatched_at IS NULL
        FOR UPDATE SKIP LOCKED`,
      [organizationId, eventIds],
    );
    const events = parseRows('webhookDispatch.lockEvents', z.object({ id: z.guid(), type: z.string(), payload: z.unknown() }), rows);
    if (events.length === 0) return { deliveries: [], events: [] };
    const locked = events.map((e) => e.id);
    const inserted = await tx.query(
      `INSERT INTO webhook_deliveries (organization_id, endpoint_id, event_id, event_type)
       SELECT $1, e.id, n.id, n.type FROM notification_events n
         JOIN webhook_endpoints e ON e.organization_id = n.organization_id AND e.enabled AND (cardinality(e.event_types) = 0 OR n.type = ANY (e.event_types))
        WHERE n.organization_id = $1 AND n.id = ANY ($2::uuid[])
        ORDER BY n.created_at, n.id
       ON CONFLICT (event_id, endpoint_id) DO NOTHING
       RETURNING id, organization_id`,
      [organizationId, locked],
    );
    await tx.query('UPDATE notification_events SET dispatched_at = now() WHERE organization_id = $1 AND id = ANY ($2::uuid[])', [organizationId, locked]);
    const deliveries = parseRows('webhookDispatch.insertDeliveries', idAndOrg, inserted.rows).map((r) => ({ deliveryId: r.id, organizationId: r.organization_id, replays: 0 }));
    return { deliveries, events };
  });
}

/** Everything one attempt needs: where, what, and the secrets to sign with. */
export interface SendableDelivery {
  deliveryId: string;
  organizationId: string;
  endpointId: string;
  status: 'pending' | 'delivered' | 'failed';
  attemptCount: number;
  url: string;
  endpointEnabled: boolean;
  secrets: SigningSecrets;
  event: { id: string; type: string; schemaVersion: number; payload: unknown; occurredAt: Date; createdAt: Date };
}

const sendableRow = z.object({
  id: z.guid(),
  organization_id: z.guid(),
  endpoint_id: z.guid(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempt_count: z.number().int(),
  url: z.string(),
  enabled: z.boolean(),
  event_id: z.guid(),
  type: z.string(),
  schema_version: z.number().int(),
  payload: z.unknown(),
  occurred_at: z.date(),
  event_created_at: z.date(),
});

/** The delivery with its endpoint and event; undefined when it is gone (its endpoint was deleted). */
async function sendable(db: Transactable, organizationId: string, deliveryId: string): Promise<SendableDelivery | undefined> {
  return withOrg(db, organizationId, async (tx) => {
    const { rows } = await tx.query(
      `SELECT d.id, d.organization_id, d.endpoint_id, d.status, d.attempt_count, e.url, e.enabled,
              n.id AS event_id, n.type, n.schema_version, n.payload, n.occurred_at, n.created_at AS event_created_at
         FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.organization_id = d.organization_id
         JOIN notification_events n ON n.id = d.event_id AND n.organization_id = d.organization_id
        WHERE d.organization_id = $1 AND d.id = $2`,
      [organizationId, deliveryId],
    );
    const row = parseFirstRow('webhookDispatch.sendable', sendableRow, rows);
    if (!row) return undefined;
    return {
      deliveryId: row.id,
      organizationId: row.organization_id,
      endpointId: row.endpoint_id,
      status: row.status,
      attemptCount: row.attempt_count,
      url: row.url,
      endpointEnabled: row.enabled,
      secrets: await signingSecrets(tx, organizationId, row.endpoint_id),
      event: { id: row.event_id, type: row.type, schemaVersion: row.schema_version, payload: row.payload, occurredAt: row.occurred_at, createdAt: row.event_created_at },
    };
  });
}

export interface AttemptRecord extends AttemptResult {
  organizationId: string;
  deliveryId: string;
  endpointId: string;
  /** No attempt follows this one (the job's last, or the endpoint is disabled): a failure is final. */
  final: boolean;
  /** DISABLE_AFTER: how long an endpoint may fail before it is disabled. */
  disableAfterMs: number;
}

/**
 * Writes one attempt and its effect, in one transaction: the delivery delivered, failed (final)
 * or still pending; the endpoint healthy again, or its failure clock running (and the endpoint
 * disabled when it has run too long: returned, for the caller to tell the org).
 */
async function recordAttempt(db: Transactable, attempt: AttemptRecord): Promise<{ disabled?: WebhookEndpoint }> {
  return withOrg(db, attempt.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, last_attempt_at = $3, updated_at = now(),
              status = CASE WHEN $4 THEN 'delivered' WHEN $5 THEN 'failed' ELSE 'pending' END,
              delivered_at = CASE WHEN $4 THEN now() ELSE delivered_at END,
              last_error = CASE WHEN $4 THEN NULL ELSE $6 END
        WHERE organization_id = $1 AND id = $2 RETURNING attempt_count`,
      [attempt.organizationId, attempt.deliveryId, attempt.startedAt, attempt.outcome === 'delivered', attempt.final, attempt.error ?? `HTTP ${attempt.responseStatus ?? '?'}`],
    );
    const counted = parseFirstRow('webhookDispatch.countAttempt', z.object({ attempt_count: z.number().int() }), rows);
    if (!counted) return {};
    await tx.query(
      `INSERT INTO webhook_attempts (organization_id, delivery_id, attempt_number, trigger, outcome, response_status, duration_ms, response_excerpt, error, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        attempt.organizationId,
        attempt.deliveryId,
        counted.attempt_count,
        attempt.trigger,
        attempt.outcome,
        attempt.responseStatus ?? null,
        attempt.durationMs,
        attempt.responseExcerpt,
        attempt.error ?? null,
        attempt.startedAt,
      ],
    );
    if (attempt.outcome === 'delivered') {
      await markEndpointHealthy(tx, attempt.organizationId, attempt.endpointId);
      return {};
    }
    if (attempt.outcome === 'endpoint_disabled') return {};
    const disabled = await markEndpointFailing(tx, attempt.organizationId, attempt.endpointId, attempt.disableAfterMs);
    if (!disabled) return {};
    // Nothing more is tried for a disabled endpoint: this delivery ends here (a replay revives it).
    await tx.query(`UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled' WHERE organization_id = $1 AND id = $2`, [
      attempt.organizationId,
      attempt.deliveryId,
    ]);
    return { disabled };
  });
}

/**
 * Marks pending deliveries as just looked at, after the stall sweep queued them again: a delivery
 * waiting hours for its next retry is then not handed to every sweep, and the sweep reaches others.
 */
async function touchPending(db: Transactable, organizationId: string, deliveryIds: readonly string[]): Promise<void> {
  await withOrg(db, organizationId, (tx) =>
    tx.query(`UPDATE webhook_deliveries SET updated_at = now() WHERE organization_id = $1 AND id = ANY ($2::uuid[]) AND status = 'pending'`, [organizationId, deliveryIds]),
  );
}

/** The email address of an invoice's customer, if it has one (invoice.finalized emails). */
async function customerEmail(db: Transactable, organizationId: string, customerId: string): Promise<string | undefined> {
  return withOrg(db, organizationId, async (tx) => {
    const { rows } = await tx.query(`SELECT email FROM customers WHERE organization_id = $1 AND id = $2`, [organizationId, customerId]);
    const email = parseFirstRow('webhookDispatch.customerEmail', z.object({ email: z.string().nullable() }), rows)?.email;
    return email ? email : undefined;
  });
}

export const webhookDispatch = { undispatchedEvents, stalledDeliveries, fanOut, sendable, recordAttempt, touchPending, customerEmail };
