import type { ClickHouseReader, ClickHouseWriter } from '../named-query';
import { findExistingEventsRaw, insertEventsRaw } from './events-raw.queries';
import type { EventIdentity, EventsRawRow } from './events-raw.schema';

/**
 * All the sink needs of events_raw: store rows, and ask which identities are stored already.
 * Narrow on purpose: the consumer's tests fake it with two functions, and nothing that holds
 * one can run any other query.
 */
export interface EventsRawWriter {
  insert(rows: readonly EventsRawRow[]): Promise<void>;
  /** eventIdentityKey strings of the identities already stored. */
  findExisting(identities: readonly EventIdentity[]): Promise<Set<string>>;
}

export function eventsRawWriter(client: ClickHouseReader & ClickHouseWriter): EventsRawWriter {
  return {
    insert: (rows) => insertEventsRaw(client, rows),
    findExisting: (identities) => findExistingEventsRaw(client, identities),
  };
}
