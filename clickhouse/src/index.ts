// @polaris/clickhouse: the one place that talks to ClickHouse. Every query is a named function,
// grouped below by the table it serves (as Trigger.dev's internal-packages/clickhouse does), with
// its SQL as a value beside it so statements are tested without a server. Services hold the
// narrow interfaces (EventsRawWriter for the sink, MeterUsageReader for the Usage API,
// MeterBackfillStore for backfills), not a client.
// Migrations: `@polaris/clickhouse/migrate`; test databases: `@polaris/clickhouse/testing`.
import { findStoredIdentities, findStoredStatements } from './event-identities/event-identities.queries';
import { countHashesStatement, countIdentityHashes, countOtherLayouts, dropIdentityDaysBefore, readHashesStatement, readIdentityHashes } from './event-identities/identity-hashes.queries';
import { eventsRawLine, findExistingEventsRaw, findExistingStatements, insertEventsRaw, insertEventsRawLines, insertStatement } from './events-raw/events-raw.queries';
import { readRecentEvents, recentEventsStatement } from './events-raw/recent-events.query';
import { countBackfillEvents, countEventsStatement, insertBackfillValues, insertValuesStatement, readBackfillEvents, readEventsStatement } from './meter-backfill/meter-backfill.queries';
import { meterUsageStatement, queryMeterUsage } from './meter-usage/meter-usage.query';
import { meterUsageRawStatement, queryMeterUsageRaw } from './meter-usage/meter-usage.raw';

export const eventsRaw = {
  insert: insertEventsRaw,
  /** Rows built from validated messages, unchecked: eventsRawLine per row, insertLines per INSERT. */
  line: eventsRawLine,
  insertLines: insertEventsRawLines,
  findExisting: findExistingEventsRaw,
  insertStatement,
  findExistingStatements,
  /** The newest events of one namespace, FINAL, bounded in time (Usage.ListEvents). */
  recent: readRecentEvents,
  recentStatement: recentEventsStatement,
} as const;

/**
 * The identities of stored events (event_identity_hashes_v2, event_identities_v2): the sink's windowed "already stored?"
 * probe, the identity hashes its per-partition filters are rebuilt from, and day retention.
 */
export const eventIdentities = {
  findStored: findStoredIdentities,
  findStoredStatements,
  countHashes: countIdentityHashes,
  countHashesStatement,
  readHashes: readIdentityHashes,
  readHashesStatement,
  countOtherLayouts,
  dropDaysBefore: dropIdentityDaysBefore,
} as const;
export { ALL_PARTITIONS, type IdentityHashScope } from './event-identities/identity-hashes.queries';
export { identityHash, identityHashText, type IdentityHash } from './event-identities/identity-hash';

/** Meter usage from the rollups meter_usage_per_{minute,hour,day}_v1 (docs/meters.md); queryRaw: the same from events_raw, for tests and benches. */
export const meterUsage = {
  query: queryMeterUsage,
  queryRaw: queryMeterUsageRaw,
  statement: meterUsageStatement,
  rawStatement: meterUsageRawStatement,
} as const;

/** Backfill reads (events_raw FINAL) and writes (meter_values_backfill_v1). */
export const meterBackfill = {
  countEvents: countBackfillEvents,
  readEvents: readBackfillEvents,
  insertValues: insertBackfillValues,
  countEventsStatement,
  readEventsStatement,
  insertValuesStatement,
} as const;

export {
  clickhouseConfigSchema,
  createClickHouse,
  createClickHouseReader,
  pingClickHouse,
  readSettings,
  ClickHouseError,
  type ClickHouseClient,
  type ClickHouseConfig,
  type ClickHouseReadClient,
  type ReadLimits,
} from './client';
export { toClickHouseDateTime } from './date-time';
export { insertSql, QueryShapeError, type ClickHouseReader, type ClickHouseWriter, type InsertStatement, type SelectStatement } from './named-query';
// For the few ad-hoc checks outside (benches, e2e); queries themselves live here.
export { sqlString } from './sql-literal';
export type { EventIdentity, EventsRawRow } from './events-raw/events-raw.schema';
export { eventsRawWriter, type EventsRawWriter } from './events-raw/events-raw.writer';
export {
  MAX_RECENT_EVENTS_PAGE,
  recentEventsReader,
  type RecentEvent,
  type RecentEventsCursor,
  type RecentEventsParams,
  type RecentEventsReader,
} from './events-raw/recent-events.query';
export { MAX_METER_WINDOWS, type BackfillSegment, type MeterUsageQuery } from './meter-usage/meter-usage.params';
export type { MeterUsageResult, MeterUsageRow } from './meter-usage/meter-usage.rows';
export type { MeterWindowSize } from './meter-usage/zone-windows';
export { meterUsageReader, type MeterUsageReader } from './meter-usage/meter-usage.reader';
export { meterEventKey } from './meter-backfill/meter-backfill.queries';
export { MAX_BACKFILL_PAGE, type BackfillCursor, type BackfillScope, type MeterValuesBackfillRow, type ReadEventsParams, type StoredEvent } from './meter-backfill/meter-backfill.schema';
export { meterBackfillStore, type MeterBackfillStore } from './meter-backfill/meter-backfill.store';
export { missingClickHouseMigrations } from './schema-version';
