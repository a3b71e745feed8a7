// @polaris/clickhouse: the one place that talks to ClickHouse. Every query is a named function,
// grouped below by the table it serves (as Trigger.dev's internal-packages/clickhouse does), with
// its SQL as a value beside it so statements are tested without a server. Services hold the
// narrow interfaces (EventsRawWriter for the sink, UsageReader for the Usage API), not a client.
// Migrations: `@polaris/clickhouse/migrate`; test databases: `@polaris/clickhouse/testing`.
import { findExistingEventsRaw, findExistingStatements, insertEventsRaw, insertStatement } from './events-raw/events-raw.queries';
import { queryUsage, usageStatement } from './usage/usage.query';

export const eventsRaw = {
  insert: insertEventsRaw,
  findExisting: findExistingEventsRaw,
  insertStatement,
  findExistingStatements,
} as const;

export const usage = {
  query: queryUsage,
  statement: usageStatement,
} as const;

export { clickhouseConfigSchema, createClickHouse, pingClickHouse, ClickHouseError, type ClickHouseClient, type ClickHouseConfig } from './client';
export { toClickHouseDateTime } from './date-time';
export { insertSql, QueryShapeError, type ClickHouseReader, type ClickHouseWriter, type InsertStatement, type SelectStatement } from './named-query';
// For the few ad-hoc checks outside (benches, e2e); queries themselves live here.
export { sqlString } from './sql-literal';
export type { EventIdentity, EventsRawRow } from './events-raw/events-raw.schema';
export { eventsRawWriter, type EventsRawWriter } from './events-raw/events-raw.writer';
export { type UsageQuery, type UsageResult, type UsageRow, type UsageWindow } from './usage/usage.query';
export { usageReader, type UsageReader } from './usage/usage.reader';
