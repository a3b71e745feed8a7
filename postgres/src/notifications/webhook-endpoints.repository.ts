import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PolarisError } from '@polaris/shared/errors';
import type { Queryable } from '../pool';
import { parseFirstRow, parseRows } from '../rows';
import { withOrg } from '../tenant-scope';
import type { Transactable } from '../transaction';
import { requireEventFilter } from './event-catalogue';
import type { NotificationEventType } from './notification-events.repository';
import { optionalEmail, requireDescription, requireId, requireWebhookUrl } from './webhook-input';

// webhook_endpoints, one organization at a time (every function runs under withOrg, so row-level
// security confines it to that org whatever the SQL says). The secret is returned only by
// create and rotateSecret; every other read leaves it out.

export interface WebhookEndpoint {
  id: string;
  organizationId: string;
  url: string;
  description: string;
  /** Empty: every event type. */
  eventTypes: NotificationEventType[];
  enabled: boolean;
  disabledReason?: string;
  disabledAt?: Date;
  alertEmail?: string;
  failingSince?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** What the deliverer signs with: the current secret, and the previous one while it still counts. */
export interface SigningSecrets {
  current: string;
  previous?: string;
}

/** How long a rotated-out secret still signs (a second signature), so receivers can switch over. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 3600 * 1000;

const COLUMNS = `id, organization_id, url, description, event_types, enabled, disabled_reason, disabled_at, alert_email, failing_since, created_at, updated_at`;

const endpointRow = z
  .object({
    id: z.guid(),
    organization_id: z.guid(),
    url: z.string(),
    description: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    disabled_at: z.date().nullable(),
    alert_email: z.string().nullable(),
    failing_since: z.date().nullable(),
    created_at: z.date(),
    updated_at: z.date(),
  })
  .transform(
    (r): WebhookEndpoint => ({
      id: r.id,
      organizationId: r.organization_id,
      url: r.url,
      description: r.description,
      eventTypes: r.event_types as NotificationEventType[],
      enabled: r.enabled,
      ...(r.disabled_reason !== null ? { disabledReason: r.disabled_reason } : {}),
      ...(r.disabled_at ? { disabledAt: r.disabled_at } : {}),
      ...(r.alert_email !== null ? { alertEmail: r.alert_email } : {}),
      ...(r.failing_since ? { failingSince: r.failing_since } : {}),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );
const withSecretRow = z.object({ secret: z.string() });

/** `whsec_` + 32 random bytes in base64: the Standard Webhooks secret format. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

const notFound = (id: string) => new PolarisError('not_found', 'webhook_endpoint_not_found', `no webhook endpoint ${id}`, 'endpoint_id');

export interface CreateWebhookEndpointInput {
  organizationId: string;
  url: string;
  description?: string;
  eventTypes: readonly string[];
  alertEmail?: string;
}

async function create(db: Transactable, input: CreateWebhookEndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = requireWebhookUrl(input.url).toString();
  const description = requireDescription(input.description);
  const eventTypes = requireEventFilter(input.eventTypes);
  const alertEmail = optionalEmail(input.alertEmail);
  const secret = newWebhookSecret();
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `INSERT INTO webhook_endpoints (organization_id, url, description, event_types, alert_email, secret)
       VALUES ($1, $2, $3, $4::text[], $5, $6) RETURNING ${COLUMNS}`,
      [input.organizationId, url, description, eventTypes, alertEmail ?? null, secret],
    );
    return { endpoint: parseRows('webhookEndpoints.create', endpointRow, rows)[0] as WebhookEndpoint, secret };
  });
}

async function selectOne(tx: Queryable, organizationId: string, endpointId: string, lock = false): Promise<WebhookEndpoint> {
  const { rows } = await tx.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE organization_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`, [organizationId, endpointId]);
  const found = parseFirstRow('webhookEndpoints.get', endpointRow, rows);
  if (!found) throw notFound(endpointId);
  return found;
}

async function get(db: Transactable, input: { organizationId: string; endpointId: string }): Promise<WebhookEndpoint> {
  const endpointId = requireId(input.endpointId, 'webhook_endpoint', 'endpoint_id');
  return withOrg(db, input.organizationId, (tx) => selectOne(tx, input.organizationId, endpointId));
}

/** Every endpoint of the org, oldest first (an org has a handful; no paging). */
async function list(db: Transactable, input: { organizationId: string }): Promise<WebhookEndpoint[]> {
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE organization_id = $1 ORDER BY created_at, id`, [input.organizationId]);
    return parseRows('webhookEndpoints.list', endpointRow, rows);
  });
}

export interface UpdateWebhookEndpointInput {
  organizationId: string;
  endpointId: string;
  url?: string;
  description?: string;
  eventTypes?: readonly string[];
  /** '' clears it. */
  alertEmail?: string;
  /** true re-enables a disabled endpoint (and forgets its failures); false disables it. */
  enabled?: boolean;
}

async function update(db: Transactable, input: UpdateWebhookEndpointInput): Promise<WebhookEndpoint> {
  const endpointId = requireId(input.endpointId, 'webhook_endpoint', 'endpoint_id');
  const url = input.url === undefined ? undefined : requireWebhookUrl(input.url).toString();
  const description = input.description === undefined ? undefined : requireDescription(input.description);
  const eventTypes = input.eventTypes === undefined ? undefined : requireEventFilter(input.eventTypes);
  const alertEmail = input.alertEmail === undefined ? undefined : (optionalEmail(input.alertEmail) ?? '');
  return withOrg(db, input.organizationId, async (tx) => {
    const current = await selectOne(tx, input.organizationId, endpointId, true);
    const enabling = input.enabled === true && !current.enabled;
    const disabling = input.enabled === false && current.enabled;
    const { rows } = await tx.query(
      `UPDATE webhook_endpoints SET
         url = coalesce($3, url),
         description = coalesce($4, description),
         event_types = coalesce($5::text[], event_types),
         alert_email = CASE WHEN $6::text IS NULL THEN alert_email ELSE nullif($6, '') END,
         enabled = CASE WHEN $7 THEN true WHEN $8 THEN false ELSE enabled END,
         disabled_reason = CASE WHEN $7 THEN NULL WHEN $8 THEN 'disabled by request' ELSE disabled_reason END,
         disabled_at = CASE WHEN $7 THEN NULL WHEN $8 THEN now() ELSE disabled_at END,
         failing_since = CASE WHEN $7 THEN NULL ELSE failing_since END,
         updated_at = now()
       WHERE organization_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [input.organizationId, endpointId, url ?? null, description ?? null, eventTypes ?? null, alertEmail ?? null, enabling, disabling],
    );
    return parseRows('webhookEndpoints.update', endpointRow, rows)[0] as WebhookEndpoint;
  });
}

/** Deletes the endpoint with its deliveries and their attempts. */
async function remove(db: Transactable, input: { organizationId: string; endpointId: string }): Promise<WebhookEndpoint> {
  const endpointId = requireId(input.endpointId, 'webhook_endpoint', 'endpoint_id');
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(`DELETE FROM webhook_endpoints WHERE organization_id = $1 AND id = $2 RETURNING ${COLUMNS}`, [input.organizationId, endpointId]);
    const found = parseFirstRow('webhookEndpoints.delete', endpointRow, rows);
    if (!found) throw notFound(endpointId);
    return found;
  });
}

/** A new secret, returned once; the old one still signs for PREVIOUS_SECRET_GRACE_MS. */
async function rotateSecret(db: Transactable, input: { organizationId: string; endpointId: string }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const endpointId = requireId(input.endpointId, 'webhook_endpoint', 'endpoint_id');
  const secret = newWebhookSecret();
  return withOrg(db, input.organizationId, async (tx) => {
    const { rows } = await tx.query(
      `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = now() + $4 * interval '1 millisecond', secret = $3, updated_at = now()
        WHERE organization_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [input.organizationId, endpointId, secret, PREVIOUS_SECRET_GRACE_MS],
    );
    const endpoint = parseFirstRow('webhookEndpoints.rotateSecret', endpointRow, rows);
    if (!endpoint) throw notFound(endpointId);
    return { endpoint, secret };
  });
}

/** The secrets a delivery is signed with now (inside the deliverer's withOrg transaction). */
export async function signingSecrets(tx: Queryable, organizationId: string, endpointId: string): Promise<SigningSecrets> {
  const { rows } = await tx.query(
    `SELECT secret, CASE WHEN previous_secret_until > now() THEN previous_secret END AS previous
       FROM webhook_endpoints WHERE organization_id = $1 AND id = $2`,
    [organizationId, endpointId],
  );
  const row = parseFirstRow('webhookEndpoints.signingSecrets', withSecretRow.extend({ previous: z.string().nullable() }), rows);
  if (!row) throw notFound(endpointId);
  return { current: row.secret, ...(row.previous ? { previous: row.previous } : {}) };
}

/** After a 2xx: the endpoint is healthy again. */
export async function markEndpointHealthy(tx: Queryable, organizationId: string, endpointId: string): Promise<void> {
  await tx.query(`UPDATE webhook_endpoints SET failing_since = NULL WHERE organization_id = $1 AND id = $2 AND failing_since IS NOT NULL`, [organizationId, endpointId]);
}

/**
 * After a failed attempt: starts the failure clock if it is not running, and disables the endpoint
 * once it has been failing for `disableAfterMs`. Returns the endpoint when this call disabled it
 * (the caller tells the org), else undefined.
 */
export async function markEndpointFailing(tx: Queryable, organizationId: string, endpointId: string, disableAfterMs: number): Promise<WebhookEndpoint | undefined> {
  await tx.query(`UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()) WHERE organization_id = $1 AND id = $2`, [organizationId, endpointId]);
  const { rows } = await tx.query(
    `UPDATE webhook_endpoints SET enabled = false, disabled_at = now(), updated_at = now(),
            disabled_reason = 'failing since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
      WHERE organization_id = $1 AND id = $2 AND enabled AND failing_since <= now() - $3 * interval '1 millisecond'
      RETURNING ${COLUMNS}`,
    [organizationId, endpointId, disableAfterMs],
  );
  return parseFirstRow('webhookEndpoints.disableFailing', endpointRow, rows);
}

export const webhookEndpoints = { create, get, list, update, delete: remove, rotateSecret };
