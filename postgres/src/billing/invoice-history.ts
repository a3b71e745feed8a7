import { PolarisError } from '@polaris/shared/errors';
import type { Queryable } from '../pool';
import { parseRows } from '../rows';
import type { InvoiceEvent, InvoiceStatus } from './billing-records';
import { EVENT_COLUMNS, eventRowSchema } from './invoice-rows';

// invoice_events: what changed on an invoice, who or what made it, when. Append-only; every
// write of the invoices repository appends one in the transaction that makes the change, so the
// history never says something happened that did not (or misses something that did).

const MAX_ACTOR_LENGTH = 200;

/** Who acts, as the history records it: `api-key:<id>`, `operator`, `rating-worker`, `scheduler`. */
export function requireActor(actor: string): string {
  if (actor.length < 1 || actor.length > MAX_ACTOR_LENGTH || actor.includes('\u0000')) {
    throw new PolarisError('invalid_argument', 'invalid_actor', `actor must be 1 to ${MAX_ACTOR_LENGTH} characters`, 'actor');
  }
  return actor;
}

export interface NewInvoiceEvent {
  organizationId: string;
  invoiceId: string;
  action: InvoiceEvent['action'];
  fromStatus?: InvoiceStatus;
  toStatus: InvoiceStatus;
  actor: string;
  detail?: Record<string, unknown>;
}

export async function recordInvoiceEvent(tx: Queryable, event: NewInvoiceEvent): Promise<void> {
  await tx.query(
    `INSERT INTO invoice_events (invoice_id, organization_id, action, from_status, to_status, actor, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
    [event.invoiceId, event.organizationId, event.action, event.fromStatus ?? null, event.toStatus, requireActor(event.actor), JSON.stringify(event.detail ?? {})],
  );
}

/** The invoice's history, oldest first. */
export async function invoiceHistory(db: Queryable, organizationId: string, invoiceId: string): Promise<InvoiceEvent[]> {
  const { rows } = await db.query(`SELECT ${EVENT_COLUMNS} FROM invoice_events e WHERE e.organization_id = $1 AND e.invoice_id = $2 ORDER BY e.id`, [
    organizationId,
    invoiceId,
  ]);
  return parseRows('invoices.history', eventRowSchema, rows);
}
