import { eventIdentityKey } from '@polaris/shared/contracts';
import { z } from 'zod';
import { checkParams, selectRows, type ClickHouseReader, type SelectStatement } from '../named-query';
import { sqlString } from '../sql-literal';
import { identityProbeStatements } from '../events-raw/events-raw.queries';
import type { EventIdentity } from '../events-raw/events-raw.schema';

const FIND_STORED = 'eventIdentities.findStored';

/** 'YYYY-MM-DD', a UTC day: the first ingestion day the probe reads. */
const sinceDayParam = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day 'YYYY-MM-DD'");
const storedIdentityRow = z.object({
  namespace: z.string(),
  source: z.string(),
  id: z.string(),
  /** UInt64 as text; '0' for events stored before fingerprints (unknown payload). */
  payload_fingerprint: z.string().regex(/^\d+$/),
});

/**
 * The probe queries of eventIdentities.findStored: the identities among `identities` whose stored
 * copy was received on `sinceDay` or later (event_identities_v2, clickhouse/migrations/0013).
 * The day bound prunes every older partition, so what the namespace stored before the window
 * costs nothing. No FINAL: any copy of an identity row proves the event is stored.
 */
export function findStoredStatements(identities: readonly EventIdentity[], sinceDay: string): SelectStatement[] {
  const day = checkParams(FIND_STORED, sinceDayParam, sinceDay);
  const prefix = `SELECT namespace, source, id, toString(payload_fingerprint) AS payload_fingerprint FROM event_identities_v2 WHERE ingested_day >= toDate(${sqlString(day)}) AND (`;
  return identityProbeStatements(FIND_STORED, prefix, ')', identities);
}

/**
 * eventIdentities.findStored: eventIdentityKey → payload fingerprint (UInt64 text) of every
 * identity in `identities` stored since `sinceDay`. When an identity was stored twice (on two
 * days, beyond a window), the first row read wins: both are copies of the first payload kept.
 */
export async function findStoredIdentities(reader: ClickHouseReader, identities: readonly EventIdentity[], sinceDay: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const statement of findStoredStatements(identities, sinceDay)) {
    for (const row of await selectRows(reader, FIND_STORED, statement, storedIdentityRow)) {
      const key = eventIdentityKey(row.namespace, row.source, row.id);
      if (!found.has(key)) found.set(key, row.payload_fingerprint);
    }
  }
  return found;
}
