import { z } from 'zod';
import { PolarisError } from '@polaris/shared/errors';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { requireId } from './webhook-input';
import { decodeDeliveryPageToken, encodeDeliveryPageToken, deliveryPageSize } from './delivery-page-token';

// webhook_deliveries and webhook_attempts, one organization at a time: the log of what was sent
// where, every attempt with its status, latency and a capped excerpt of the answer, and replays.

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export type AttemptTrigger = 'initial' | 'retry' | 'replay';
export type AttemptOutcome = 'delivered' | 'http_error' | 'timeout' | 'network_error' | 'blocked_target' | 'endpoint_disabled';

/** What one attempt did: as the notifier records it (AttemptRecord) and as the log shows it. */
export interface AttemptResult {
  trigger: AttemptTrigger;
  outcome: AttemptOutcome;
  responseStatus?: number;
  durationMs: number;
  responseExcerpt: string;
  error?: string;
  startedAt: Date;
}

export interface WebhookAttempt extends AttemptResult {
  attemptNumber: number;
}

export interface WebhookDelivery {
  id: string;
  organizationId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attemptCount: number;
  replays: number;
  lastError?: string;
  lastAttemptAt?: Date;
  deliveredAt?: Date;
  createdAt: Date;
  /** Only from get(). */
  attempts?: WebhookAttempt[];
}

const COLUMNS = `d.id, d.organization_id, d.endpoint_id, d.event_id, d.event_type, d.status, d.attempt_count, d.replays, d.last_error, d.last_attempt_at, d.delivered_at, d.created_at`;
const deliveryRow = z
  .object({
    id: z.guid(),
    organization_id: z.guid(),
    endpoint_id: z.guid(),
    event_id: z.guid(),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempt_count: z.number().int(),
    replays: z.number().int(),
    last_error: z.string().nullable(),
    last_attempt_at: z.date().nullable(),
    delivered_at: z.date().nullable(),
    created_at: z.date(),
  })
  .transform(
    (r): WebhookDelivery => ({
      id: r.id,
      organizationId: r.organization_id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      eventType: r.event_type,
      status: r.status,
      attemptCount: r.attempt_count,
      replays: r.replays,
      ...(r.last_error !== null ? { lastError: r.last_error } : {}),
      ...(r.last_attempt_at ? { lastAttemptAt: r.last_attempt_at } : {}),
      ...(r.delivered_at ? { deliveredAt: r.delivered_at } : {}),
      createdAt: r.created_at,
    }),
  );
const attemptRow = z
  .object({
    attempt_number: z.number().int(),
    trigger: z.enum(['initial', 'retry', 'replay']),
    outcome: z.enum(['delivered', 'http_error', 'timeout', 'network_error', 'blocked_target', 'endpoint_disabled']),
    response_status: z.number().int().nullable(),
    duration_ms: z.number().int(),
    response_excerpt: z.string(),
    error: z.string().nullable(),
    started_at: z.date(),
  })
  .transform(
    (r): WebhookAttempt => ({
      attemptNumber: r.attempt_number,
      trigger: r.trigger,
      outcome: r.outcome,
      ...(r.response_status !== null ? { responseStatus: r.response_status } : {}),
      durationMs: r.duration_ms,
      responseExcerpt: r.response_excerpt,
      ...(r.error !== null ? { error: r.error } : {}),
      startedAt: r.started_at,
    }),
  );

const notFound = (id: string) => new PolarisError('not_found', 'webhook_delivery_not_found', `no webhook delivery ${id}`, 'delivery_id');

async function get(db: Transactable, input: { organizationId: string; deliveryId: string }): Promise<WebhookDelivery> {
  const deliveryId = requireId(input.deliveryId, 'webhook_delivery', 'delivery_id');
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(`SELECT ${COLUMNS} FROM webhook_deliveries d WHERE d.organization_id = $1 AND d.id = $2`, [input.organizationId, deliveryId]);
    const delivery = parseFirstRow('webhookDeliveries.get', deliveryRow, rows);
    if (!delivery) throw notFound(deliveryId);
    const attempts = await tx.query(
      `SELECT attempt_number, trigger, outcome, response_status, duration_ms, response_excerpt, error, started_at
         FROM webhook_attempts WHERE organization_id = $1 AND delivery_id = $2 ORDER BY id`,
      [input.organizationId, deliveryId],
    );
    return { ...delivery, attempts: parseRows('webhookDeliveries.attempts', attemptRow, attempts.rows) };
  });
}

export interface ListDeliveriesInput {
  organizationId: string;
  endpointId?: string;
  status?: string;
  eventType?: string;
  /** [createdFrom, createdTo) */
  createdFrom?: Date;
  createdTo?: Date;
  pageSize?: number;
  pageToken?: string;
}

const STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

function deliveryFilter(input: ListDeliveriesInput): { where: string; values: unknown[] } {
  const values: unknown[] = [input.organizationId];
  const clauses = ['d.organization_id = $1'];
  const add = (clause: (n: string) => string, value: unknown) => {
    values.push(value);
    clauses.push(clause(`$${values.length}`));
  };
  if (input.endpointId) add((p) => `d.endpoint_id = ${p}`, requireId(input.endpointId, 'webhook_endpoint', 'endpoint_id'));
  if (input.status) {
    if (!STATUSES.includes(input.status as DeliveryStatus)) {
      throw new PolarisError('invalid_argument', 'invalid_status', `status: expected one of ${STATUSES.join(', ')}`, 'status');
    }
    add((p) => `d.status = ${p}`, input.status);
  }
  if (input.eventType) add((p) => `d.event_type = ${p}`, input.eventType);
  if (input.createdFrom) add((p) => `d.created_at >= ${p}`, input.createdFrom);
  if (input.createdTo) add((p) => `d.created_at < ${p}`, input.createdTo);
  if (input.createdFrom && input.createdTo && input.createdFrom.getTime() >= input.createdTo.getTime()) {
    throw new PolarisError('invalid_argument', 'invalid_time_range', 'created_from must be before created_to', 'created_from');
  }
  return { where: clauses.join(' AND '), values };
}

/** Newest first, keyset-paged on (created_at, id). */
async function list(db: Transactable, input: ListDeliveriesInput): Promise<{ deliveries: WebhookDelivery[]; nextPageToken?: string }> {
  const size = deliveryPageSize(input.pageSize);
  const after = decodeDeliveryPageToken(input.pageToken);
  const { where, values } = deliveryFilter(input);
  return withOrg(db, input.organizationId, async (tx) => {
    const page = after ? ` AND (d.created_at, d.id) < ($${values.length + 1}::timestamptz, $${values.length + 2}::uuid)` : '';
    const { rows } = await tx.query(
      `SELECT ${COLUMNS} FROM webhook_deliveries d WHERE ${where}${page} ORDER BY d.created_at DESC, d.id DESC LIMIT ${size + 1}`,
      after ? [...values, after.createdAt, after.id] : values,
    );
    const deliveries = parseRows('webhookDeliveries.list', deliveryRow, rows);
    const more = deliveries.length > size;
    const shown = deliveries.slice(0, size);
    const last = shown.at(-1);
    return { deliveries: shown, ...(more && last ? { nextPageToken: encodeDeliveryPageToken(last.createdAt, last.id) } : {}) };
  });
}

/** A delivery to queue (again): its id, org and the replay count its job id carries. */
export interface QueuedDelivery {
  deliveryId: string;
  organizationId: string;
  replays: number;
}

const replayedRow = z.object({ id: z.guid(), organization_id: z.guid(), replays: z.number().int() });

/**
 * Makes one delivery pending again for one more attempt (same webhook-id), whatever its status:
 * the caller queues the returned job. A disabled endpoint is refused: re-enable it first.
 */
async function replay(db: Transactable, input: { organizationId: string; deliveryId: string }): Promise<QueuedDelivery> {
  const deliveryId = requireId(input.deliveryId, 'webhook_delivery', 'delivery_id');
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `SELECT d.id, e.enabled FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.organization_id = d.organization_id
        WHERE d.organization_id = $1 AND d.id = $2`,
      [input.organizationId, deliveryId],
    );
    const found = parseFirstRow('webhookDeliveries.replayTarget', z.object({ id: z.guid(), enabled: z.boolean() }), rows);
    if (!found) throw notFound(deliveryId);
    if (!found.enabled) throw new PolarisError('failed_precondition', 'webhook_endpoint_disabled', 'the delivery\'s endpoint is disabled; enable it before replaying', 'delivery_id');
    const updated = await tx.query(
      `UPDATE webhook_deliveries SET status = 'pending', replays = replays + 1, updated_at = now()
        WHERE organization_id = $1 AND id = $2 RETURNING id, organization_id, replays`,
      [input.organizationId, deliveryId],
    );
    const row = parseRows('webhookDeliveries.replay', replayedRow, updated.rows)[0] as z.infer<typeof replayedRow>;
    return { deliveryId: row.id, organizationId: row.organization_id, replays: row.replays };
  });
}

/** The most one ReplayDeliveries call queues: a wider range is refused, to be cut into pieces. */
export const MAX_REPLAY_BATCH = 10_000;

/**
 * Replays every delivery created in [from, to) (optionally of one endpoint or status) whose
 * endpoint is enabled. Refuses a range holding more than MAX_REPLAY_BATCH deliveries.
 */
async function replayRange(
  db: Transactable,
  input: { organizationId: string; createdFrom: Date; createdTo: Date; endpointId?: string; status?: string },
): Promise<QueuedDelivery[]> {
  if (Number.isNaN(input.createdFrom.getTime())) throw new PolarisError('invalid_argument', 'invalid_time_range', 'created_from is required', 'created_from');
  if (Number.isNaN(input.createdTo.getTime())) throw new PolarisError('invalid_argument', 'invalid_time_range', 'created_to is required', 'created_to');
  const { where, values } = deliveryFilter(input);
  return withOrg(db, input.organizationId, async (tx) => {
    const count = await tx.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.organization_id = d.organization_id
        WHERE ${where} AND e.enabled`,
      values,
    );
    const n = parseRows('webhookDeliveries.replayCount', z.object({ n: z.number().int() }), count.rows)[0]?.n ?? 0;
    if (n > MAX_REPLAY_BATCH) {
      throw new PolarisError('invalid_argument', 'replay_range_too_large', `the range holds ${n} deliveries; replay at most ${MAX_REPLAY_BATCH} at once (narrow created_from/created_to)`, 'created_from');
    }
    const { rows } = await tx.query(
      `UPDATE webhook_deliveries d SET status = 'pending', replays = d.replays + 1, updated_at = now()
         FROM webhook_endpoints e
        WHERE e.id = d.endpoint_id AND e.organization_id = d.organization_id AND e.enabled AND ${where}
        RETURNING d.id, d.organization_id, d.replays`,
      values,
    );
    return parseRows('webhookDeliveries.replayRange', replayedRow, rows).map((r) => ({ deliveryId: r.id, organizationId: r.organization_id, replays: r.replays }));
  });
}

export const webhookDeliveries = { get, list, replay, replayRange };
