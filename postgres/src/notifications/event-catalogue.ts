import { z } from 'zod';
import { PolarisError } from '@polaris/shared/errors';
import { NOTIFICATION_EVENT_TYPES, type NotificationEventType } from './notification-events.repository';

// The notification event catalogue (README "Webhooks", "Event catalogue"): one payload schema per
// type and version, and a sample of each (the README shows them; a test checks they parse).
// A version only ever gains optional fields; anything else is a new version beside the old one.

const isoTime = z.iso.datetime({ offset: true });
/** Exact decimal text, never a float. */
const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected exact decimal text');

const invoicePayloadV1 = z.object({
  invoice: z.object({
    id: z.guid(),
    number: z.string().nullable(),
    status: z.enum(['draft', 'finalized', 'paid', 'void']),
    customerId: z.guid(),
    customerExternalId: z.string(),
    subscriptionId: z.guid(),
    periodStart: isoTime,
    periodEnd: isoTime,
    currency: z.string().regex(/^[A-Z]{3}$/),
    subtotal: decimal.nullable(),
    total: decimal.nullable(),
  }),
});

const thresholdCrossedPayloadV1 = z.object({
  thresholdId: z.guid(),
  customerId: z.guid(),
  customerExternalId: z.string(),
  meterSlug: z.string(),
  kind: z.enum(['absolute', 'percent']),
  percent: decimal.optional(),
  periodStart: isoTime,
  periodEnd: isoTime,
  limitQuantity: decimal,
  observedQuantity: decimal,
});

const backfillCompletedPayloadV1 = z.object({
  meter: z.object({ id: z.guid(), slug: z.string(), version: z.number().int().positive() }),
  run: z.object({ id: z.string().regex(/^[0-9]+$/, 'a backfill run id'), from: isoTime, to: isoTime, state: z.enum(['succeeded', 'failed']) }),
});

const deadLettersGrowingPayloadV1 = z.object({
  topic: z.string(),
  /** Dead letters of this organization in the window. */
  count: z.number().int().nonnegative(),
  windowStart: isoTime,
  windowEnd: isoTime,
});

const INVOICE_SAMPLE = {
  invoice: {
    id: '0b9f3c1e-6a57-4f3e-9d8a-2f1c4b7e9a10',
    number: 'INV-000042',
    status: 'finalized',
    customerId: '5d2e8f41-93b0-4c6a-a1de-7b3f0c9e2d55',
    customerExternalId: 'acme-42',
    subscriptionId: 'c71a0e39-2b84-4f1d-8e65-0a9d3b6c4f21',
    periodStart: '2026-08-01T00:00:00.000Z',
    periodEnd: '2026-09-01T00:00:00.000Z',
    currency: 'EUR',
    subtotal: '125.50',
    total: '125.50',
  },
};

export interface CatalogueEntry {
  type: NotificationEventType;
  version: number;
  description: string;
  schema: z.ZodType;
  sample: Record<string, unknown>;
}

export const EVENT_CATALOGUE: readonly CatalogueEntry[] = [
  { type: 'invoice.created', version: 1, description: 'A draft invoice was opened for a billing period.', schema: invoicePayloadV1, sample: { invoice: { ...INVOICE_SAMPLE.invoice, number: null, status: 'draft', subtotal: null, total: null } } },
  { type: 'invoice.finalized', version: 1, description: 'An invoice was frozen with its number and total.', schema: invoicePayloadV1, sample: INVOICE_SAMPLE },
  { type: 'invoice.paid', version: 1, description: 'An invoice was marked paid.', schema: invoicePayloadV1, sample: { invoice: { ...INVOICE_SAMPLE.invoice, status: 'paid' } } },
  { type: 'invoice.voided', version: 1, description: 'An invoice was voided.', schema: invoicePayloadV1, sample: { invoice: { ...INVOICE_SAMPLE.invoice, status: 'void' } } },
  {
    type: 'usage.threshold_crossed',
    version: 1,
    description: "A customer's usage of a meter crossed a threshold within a billing period (once per period).",
    schema: thresholdCrossedPayloadV1,
    sample: {
      thresholdId: '9e4b2a17-5c3d-4e8f-b0a1-6d7c8e9f0a12',
      customerId: '5d2e8f41-93b0-4c6a-a1de-7b3f0c9e2d55',
      customerExternalId: 'acme-42',
      meterSlug: 'api_calls',
      kind: 'percent',
      percent: '80',
      periodStart: '2026-08-01T00:00:00.000Z',
      periodEnd: '2026-09-01T00:00:00.000Z',
      limitQuantity: '8000',
      observedQuantity: '8012',
    },
  },
  {
    type: 'meter.backfill_completed',
    version: 1,
    description: "A meter version's backfill run ended.",
    schema: backfillCompletedPayloadV1,
    sample: {
      meter: { id: '2c5d7e9f-1a3b-4c5d-8e7f-9a0b1c2d3e4f', slug: 'api_calls', version: 2 },
      run: { id: '42', from: '2026-07-01T00:00:00.000Z', to: '2026-08-01T00:00:00.000Z', state: 'succeeded' },
    },
  },
  {
    type: 'dead_letters.growing',
    version: 1,
    description: "The organization's events keep landing in the dead-letter topic.",
    schema: deadLettersGrowingPayloadV1,
    sample: { topic: 'polaris.events.dlq.v1', count: 120, windowStart: '2026-08-10T12:00:00.000Z', windowEnd: '2026-08-10T12:15:00.000Z' },
  },
];

export function catalogueEntry(type: string, version = 1): CatalogueEntry | undefined {
  return EVENT_CATALOGUE.find((e) => e.type === type && e.version === version);
}

export function isNotificationEventType(type: string): type is NotificationEventType {
  return (NOTIFICATION_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * An endpoint's event filter: known catalogue types, each once (sorted). Empty means every type.
 * `field` names the input in the error (`event_types`, `eventTypes`).
 */
export function requireEventFilter(types: readonly string[], field = 'event_types'): NotificationEventType[] {
  const unknown = types.filter((t) => !isNotificationEventType(t));
  if (unknown.length > 0) {
    throw new PolarisError(
      'invalid_argument',
      'unknown_event_type',
      `${field}: unknown event type ${unknown.map((t) => JSON.stringify(t)).join(', ')}; known types: ${NOTIFICATION_EVENT_TYPES.join(', ')}`,
      field,
    );
  }
  return [...new Set(types as NotificationEventType[])].sort();
}
