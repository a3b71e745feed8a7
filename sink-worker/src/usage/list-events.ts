import type { RecentEvent, RecentEventsReader } from '@polaris/clickhouse';
import type { EventInvalidValue, EventMeterValue, ListEventsRequest, ListEventsResponse, StoredEvent } from '@polaris/proto';
import { parseJsonExact } from '@polaris/shared/contracts';
import { PolarisError } from '@polaris/shared/errors';
import { extractMeter } from '@polaris/shared/meters';
import type { MeterCatalogSnapshot } from '../meters/catalog-snapshot';
import { decodeEventsPageToken, encodeEventsPageToken } from './events-page-token';

export const DEFAULT_EVENTS_PAGE_SIZE = 50;
export const MAX_EVENTS_PAGE_SIZE = 200;
const DAY_MS = 86_400_000;
/** Without `from`, the 7 days before `to`: a debugging view of what just arrived, never a scan of all history. */
export const DEFAULT_EVENTS_WINDOW_MS = 7 * DAY_MS;
/** The longest range one listing reads: every row in range is read and sorted before the page is cut, so the range is bounded (at most 4 monthly partitions). */
export const MAX_EVENTS_RANGE_MS = 92 * DAY_MS;
/** Filters are exact values of one event, not payloads. */
const MAX_FILTER_LENGTH = 1024;

export interface ListEventsDeps {
  reader: RecentEventsReader;
  /** The live meter catalog, as the sink stamps with it (CatalogView). */
  catalog: () => Promise<MeterCatalogSnapshot>;
  /** Epoch ms; tests inject one. */
  now?: () => number;
}

const bad = (field: string, code: string, message: string) => new PolarisError('invalid_argument', code, message, field);

/**
 * Usage.ListEvents: the organization's stored events, newest first, each shown with what the
 * meters live now read from it, computed by the sink's own catalog snapshot and extractor (so
 * what is shown is what the sink stamps). Every read names the request's organization as its
 * namespace; the range is bounded (DEFAULT_EVENTS_WINDOW_MS, MAX_EVENTS_RANGE_MS).
 */
export async function listEvents(req: ListEventsRequest, deps: ListEventsDeps): Promise<ListEventsResponse> {
  const size = pageSize(req.pageSize);
  const before = decodeEventsPageToken(req.pageToken);
  const toMs = req.to ? req.to.getTime() : (deps.now ?? Date.now)();
  const fromMs = req.from ? req.from.getTime() : toMs - DEFAULT_EVENTS_WINDOW_MS;
  if (!Number.isSafeInteger(fromMs) || fromMs < 0) throw bad('from', 'invalid_from', 'from must be at or after 1970-01-01');
  if (!Number.isSafeInteger(toMs) || toMs < 0) throw bad('to', 'invalid_to', 'to must be at or after 1970-01-01');
  if (fromMs >= toMs) throw bad('to', 'empty_range', 'to must be after from');
  if (toMs - fromMs > MAX_EVENTS_RANGE_MS) throw bad('from', 'range_too_long', `from and to may be at most ${MAX_EVENTS_RANGE_MS / DAY_MS} days apart`);
  const type = filter(req.type, 'type');
  const subject = filter(req.subject, 'subject');

  // One more than the page: whether there is a next page, without a count.
  const [rows, catalog] = await Promise.all([
    deps.reader.recent({ namespace: req.organizationId, fromMs, toMs, type, subject, before, limit: size + 1 }),
    deps.catalog(),
  ]);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return {
    events: page.map((row) => storedEvent(req.organizationId, row, catalog)),
    nextPageToken: rows.length > size && last ? encodeEventsPageToken(last) : '',
    from: new Date(fromMs),
    to: new Date(toMs),
  };
}

/** 0 (unset) means the default; more than the maximum is cut to it, as the other listings do. */
function pageSize(requested: number): number {
  if (requested === 0) return DEFAULT_EVENTS_PAGE_SIZE;
  return Math.min(requested, MAX_EVENTS_PAGE_SIZE);
}

function filter(value: string, field: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > MAX_FILTER_LENGTH) throw bad(field, `invalid_${field}`, `${field} may be at most ${MAX_FILTER_LENGTH} characters`);
  return value;
}

function storedEvent(organizationId: string, row: RecentEvent, catalog: MeterCatalogSnapshot): StoredEvent {
  const meterValues: EventMeterValue[] = [];
  const invalidValues: EventInvalidValue[] = [];
  const meters = catalog.metersFor(organizationId, row.type);
  const data = meters.length > 0 ? parseData(row.data) : undefined;
  for (const { meterSlug, meterVersionId, meter } of meters) {
    if (!meter) {
      // As the sink stamps it (meter-stamp.ts): counted invalid, visibly.
      invalidValues.push({ meterSlug, meterVersionId, reason: "the meter's definition no longer passes the checks; edit the meter" });
      continue;
    }
    const x = extractMeter(meter, data);
    if (!x.valid) {
      invalidValues.push({ meterSlug, meterVersionId, reason: x.invalidReason ?? 'invalid' });
      continue;
    }
    const dimensions: Record<string, string> = {};
    meter.definition.dimensions.forEach((d, i) => (dimensions[d.name] = x.dimensions[i] ?? ''));
    meterValues.push({ meterSlug, meterVersionId, value: x.value, uniqueKey: x.uniqueKey, dimensions });
  }
  return {
    id: row.id,
    source: row.source,
    type: row.type,
    subject: row.subject,
    time: new Date(row.time_ms),
    ingestedAt: new Date(row.ingested_at_s * 1000),
    data: row.data,
    meterValues,
    invalidValues,
  };
}

/** The stored text parsed as the sink parsed it (exact numbers); text that is not JSON reads as no data. */
function parseData(text: string): unknown {
  try {
    return parseJsonExact(text);
  } catch {
    return undefined;
  }
}
