import type { ClickHouseReader, ClickHouseWriter } from '../named-query';
import { findStoredIdentities } from '../event-identities/event-identities.queries';
import { eventsRawLine, findExistingEventsRaw, insertEventsRawLines, type ClickHouseExecutor } from './events-raw.queries';
import type { EventIdentity, EventsRawRow } from './events-raw.schema';

/**
 * All the sink needs of events_raw: store rows, and ask which identities are stored already.
 * Narrow on purpose: the consumer's tests fake it with two functions, and nothing that holds
 * one can run any other query.
 */
export interface EventsRawWriter {
  /**
   * One INSERT of rows the sink built from validated messages: not checked again row by row
   * (eventsRawLine); eventsRaw.insert is the checked path for anything else.
   */
  insert(rows: readonly EventsRawRow[]): Promise<void>;
  /** eventIdentityKey strings of the identities already stored, searching all of events_raw. */
  findExisting(identities: readonly EventIdentity[]): Promise<Set<string>>;
  /**
   * The sink's probe: eventIdentityKey → stored payload fingerprint, of the identities whose
   * stored copy was received on `sinceDay` ('YYYY-MM-DD', UTC) or later (event_identities_v2).
   */
  findStored(identities: readonly EventIdentity[], sinceDay: string): Promise<Map<string, string>>;
}

export function eventsRawWriter(client: ClickHouseReader & ClickHouseWriter & ClickHouseExecutor): EventsRawWriter {
  return {
    insert: (rows) => insertEventsRawLines(client, rows.map(eventsRawLine)),
    findExisting: (identities) => findExistingEventsRaw(client, identities),
    findStored: (identities, sinceDay) => findStoredIdentities(client, identities, sinceDay),
  };
}
