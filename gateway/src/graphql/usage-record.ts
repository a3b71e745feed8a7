import { PolarisError } from '@polaris/shared/errors';
import { parseJsonPath, toExactDecimal, type MeterAggregation } from '@polaris/shared/meters';

/** The subject of `recordUsage` when the call names none (schema.graphql says the same). */
export const DEFAULT_SUBJECT = 'default';

/** A COUNT meter's quantity is that many events, sent as one Ingest call: the collector's batch limit. */
export const MAX_COUNT_QUANTITY = 1_000;

/** What `recordUsage` needs of the meter its `metric` names. */
export interface MeterToRecord {
  slug: string;
  status: string;
  eventType: string;
  aggregation: MeterAggregation;
  valuePath: string;
}

export interface UsageToRecord {
  quantity: string;
  /** Idempotency key of the call: an event's id, or the stem of a COUNT meter's event ids. */
  id: string;
  data: Record<string, unknown> | undefined;
}

/** An event to publish: the type is the meter's; subject, source and time are the call's. */
export interface PlannedEvent {
  id: string;
  type: string;
  data: Record<string, unknown> | undefined;
}

const refused = (code: string, message: string, field: string) => new PolarisError('invalid_argument', code, message, field);

/**
 * The events that record `quantity` units of a meter, built the way the meter reads them
 * (docs/meters.md), so the usage it answers afterwards grows by exactly `quantity`:
 *
 * - a meter with a value path (SUM, MIN, MAX, AVG, LATEST): one event with the quantity at that
 *   path, as decimal text, which the meter reads exactly (a JSON number would pass through
 *   protobuf's double on the way to Ingest);
 * - COUNT counts events whatever they hold, so `n` units are `n` events, ids `<id>:1` … `<id>:<n>`:
 *   only a whole n from 1 to MAX_COUNT_QUANTITY is possible, anything else is refused (rounding
 *   would bill what nobody recorded);
 * - UNIQUE_COUNT counts distinct keys, which a quantity does not name: refused (recordEvent).
 */
export function usageEvents(meter: MeterToRecord, usage: UsageToRecord): PlannedEvent[] {
  if (meter.status !== 'active') {
    throw refused('meter_archived', `meter ${JSON.stringify(meter.slug)} is archived: it counts no new events`, 'metric');
  }
  const exact = toExactDecimal(usage.quantity);
  if (!exact.ok) throw refused('invalid_quantity', `quantity ${exact.reason}`, 'quantity');
  switch (meter.aggregation) {
    case 'COUNT':
      return countEvents(meter, usage, exact.decimal);
    case 'UNIQUE_COUNT':
      throw refused(
        'unsupported_aggregation',
        `meter ${JSON.stringify(meter.slug)} counts distinct keys (UNIQUE_COUNT), which a quantity does not name: send its events with recordEvent`,
        'metric',
      );
    default:
      return [{ id: usage.id, type: meter.eventType, data: withValueAt(meter, usage.data, exact.decimal) }];
  }
}

function countEvents(meter: MeterToRecord, usage: UsageToRecord, quantity: string): PlannedEvent[] {
  const n = /^[0-9]+$/.test(quantity) ? Number(quantity) : Number.NaN;
  if (!(n >= 1 && n <= MAX_COUNT_QUANTITY)) {
    throw refused(
      'invalid_quantity',
      `meter ${JSON.stringify(meter.slug)} counts events: quantity must be a whole number from 1 to ${MAX_COUNT_QUANTITY} (one event each), not ${quantity}`,
      'quantity',
    );
  }
  return Array.from({ length: n }, (_, i) => ({ id: `${usage.id}:${i + 1}`, type: meter.eventType, data: usage.data }));
}

/** `data` with `quantity` at the meter's value path; the caller's data may not already hold something there. */
function withValueAt(meter: MeterToRecord, data: Record<string, unknown> | undefined, quantity: string): Record<string, unknown> {
  const segments = parseJsonPath(meter.valuePath, 'valuePath');
  const keys = segments.map((s) => ('key' in s ? s.key : undefined));
  const last = keys.pop();
  if (last === undefined || keys.includes(undefined)) {
    throw refused(
      'unsupported_value_path',
      `meter ${JSON.stringify(meter.slug)} reads its value at ${meter.valuePath}, inside an array: send its events with recordEvent`,
      'metric',
    );
  }
  const root = structuredClone(data ?? {});
  let node: Record<string, unknown> = root;
  for (const key of keys as string[]) {
    const next = node[key] ?? (node[key] = {});
    if (typeof next !== 'object' || next === null || Array.isArray(next)) throw conflict(meter);
    node = next as Record<string, unknown>;
  }
  if (node[last] !== undefined) throw conflict(meter);
  node[last] = quantity;
  return root;
}

const conflict = (meter: MeterToRecord) =>
  refused('data_conflicts_with_quantity', `data holds something where meter ${JSON.stringify(meter.slug)} reads its value (${meter.valuePath}): the quantity goes there`, 'data');
