import { z } from 'zod';
import type { Queryable } from '../pool';
import { parseFirstRow } from '../rows';
import { notificationEvents } from './notification-events.repository';

// The invoice.* notification events (catalogue: event-catalogue.ts), recorded by the invoice
// lifecycle in the transaction of the change itself (the outbox), so an event exists exactly when
// its change committed. The payload is read here, in that transaction, so callers add one line.

export type InvoiceNotificationType = 'invoice.created' | 'invoice.finalized' | 'invoice.paid' | 'invoice.voided';

const invoiceRow = z.object({
  id: z.guid(),
  number: z.string().nullable(),
  status: z.enum(['draft', 'finalized', 'paid', 'void']),
  customer_id: z.guid(),
  customer_external_id: z.string(),
  subscription_id: z.guid(),
  period_start: z.date(),
  period_end: z.date(),
  currency: z.string(),
  subtotal: z.string().nullable(),
  total: z.string().nullable(),
});

/** Records `type` for the invoice as it stands in `tx` now. Dedupe key `<type>:<invoice id>`. */
export async function recordInvoiceNotification(tx: Queryable, input: { organizationId: string; invoiceId: string; type: InvoiceNotificationType }): Promise<void> {
  const { rows } = await tx.query(
    `SELECT i.id, i.number, i.status, i.customer_id, c.external_id AS customer_external_id, i.subscription_id, i.period_start, i.period_end,
            i.currency, i.subtotal::text AS subtotal, i.total::text AS total
       FROM invoices i JOIN customers c ON c.id = i.customer_id AND c.organization_id = i.organization_id
      WHERE i.organization_id = $1 AND i.id = $2`,
    [input.organizationId, input.invoiceId],
  );
  const invoice = parseFirstRow('invoiceNotifications.invoice', invoiceRow, rows);
  if (!invoice) throw new Error(`invoice ${input.invoiceId} vanished inside its own transaction`);
  await notificationEvents.record(tx, {
    organizationId: input.organizationId,
    type: input.type,
    dedupeKey: `${input.type}:${invoice.id}`,
    occurredAt: new Date(),
    payload: {
      invoice: {
        id: invoice.id,
        number: invoice.number,
        status: invoice.status,
        customerId: invoice.customer_id,
        customerExternalId: invoice.customer_external_id,
        subscriptionId: invoice.subscription_id,
        periodStart: invoice.period_start.toISOString(),
        periodEnd: invoice.period_end.toISOString(),
        currency: invoice.currency,
        subtotal: invoice.subtotal,
        total: invoice.total,
      },
    },
  });
}
