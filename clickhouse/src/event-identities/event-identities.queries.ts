import { eventIdentityKey } from '@polaris/shared/contracts';
import { z } from 'zod';
import { checkParams, selectRows, type ClickHouseReader, type SelectStatement } from '../named-query';
import { sqlString } from '../sql-literal';
import { eventIdentitySchema, type EventIdentity } from '../events-raw/events-raw.schema';
import { identityHash, identityHashText } from './identity-hash';

const FIND_STORED = 'eventIdentities.findStored';
const identitiesParam = z.array(eventIdentitySchema);

/** 'YYYY-MM-DD', a UTC day: the first ingestion day the probe reads. */
const sinceDayParam = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a day 'YYYY-MM-DD'");
const storedIdentityRow = z.object({
  namespace: z.string(),
  source: z.string(),
  id: z.string(),
  /** UInt64 as text; '0' for events stored before fingerprints (unknown payload). */
  payload_fingerprint: z.string().regex(/^\d+$/),
});

/** Hashes per probe query: ~22 bytes each, well under max_query_size (256 KiB). */
const HASHES_PER_QUERY = 8_000;

/**
 * The probe queries of eventIdentities.findStored: the identities among `identities` whose stored
 * copy was received on `sinceDay` or later (event_identity_hashes_v2, clickhouse/migrations/0015),
 * found by their 64-bit hash. The table is sorted by hash and partitioned by month: the day bound
 * prunes every older month (and, the day not being in the sort key, only that), and the hash
 * finds one granule per hash in each part of the months left. PREWHERE on the hash: the
 * identity's strings are read only in granules that hold a probed hash, not in the granule of
 * every part the index selects for it (18.16 did not move the hash condition there by itself:
 * 140 hashes against 20 M identities in 10 parts, 23 ms without, 13 ms with). Rows of another
 * identity sharing a hash come back too and match no candidate's key. No FINAL: any copy of an
 * identity row proves the event is stored.
 */
export function findStoredStatements(identities: readonly EventIdentity[], sinceDay: string): SelectStatement[] {
  const day = checkParams(FIND_STORED, sinceDayParam, sinceDay);
  const hashes = [...new Set(checkParams(FIND_STORED, identitiesParam, identities).map((e) => identityHashText(identityHash(e.namespace, e.source, e.id))))];
  const statements: SelectStatement[] = [];
  for (let at = 0; at < hashes.length; at += HASHES_PER_QUERY) {
    statements.push({
      query: `SELECT namespace, source, id, toString(payload_fingerprint) AS payload_fingerprint FROM event_identity_hashes_v2 PREWHERE identity_hash IN (${hashes.slice(at, at + HASHES_PER_QUERY).join(', ')}) WHERE ingested_day >= toDate(${sqlString(day)})`,
    });
  }
  return statements;
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
