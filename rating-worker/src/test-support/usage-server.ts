/**
 * Test support (integration tests only): the sink-worker's real polaris.v1.Usage, in process, over
 * a throwaway ClickHouse database, looking meters up in the test's PostgreSQL as the sink does
 * through Meters.GetMeter. Usage is seeded the way the sink stores it: events_raw rows with meter
 * values, which the materialized views roll up.
 */
import { randomUUID } from 'node:crypto';
import { eventsRaw, meterUsageReader, toClickHouseDateTime, type EventsRawRow } from '@polaris/clickhouse';
import { throwawayDatabase, type ThrowawayDatabase } from '@polaris/clickhouse/testing';
import { meters, type Pool } from '@polaris/postgres';
import { createInternalAuth, createUnaryWrapper, startGrpcServer, type InternalAuthConfig } from '@polaris/shared/grpc';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import { usageService } from '@polaris/sink-worker/usage';
import { meterToProto } from '../meters/meter-proto';

export interface UsageServer {
  addr: string;
  clickhouse: ThrowawayDatabase;
  stop(): Promise<void>;
}

export async function startUsageServer(pool: Pool, secret: InternalAuthConfig): Promise<UsageServer> {
  const clickhouse = await throwawayDatabase();
  const logger = createLogger('it-usage', 'silent');
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [
      usageService(
        {
          reader: meterUsageReader(clickhouse.client),
          lookup: async (organizationId, slug) => meterToProto(await meters.get(pool, { organizationId, slug })),
        },
        createUnaryWrapper(logger, createMetricsRegistry('it-usage')),
      ),
    ],
    auth: createInternalAuth(secret, 'sink-worker'),
    logger,
  });
  return {
    addr: `127.0.0.1:${server.port}`,
    clickhouse,
    stop: async () => {
      await server.stop(1_000);
      await clickhouse.drop();
    },
  };
}

/**
 * Marks the meter's current version ready, as a completed backfill would: until then the Usage
 * API answers complete = false. (A test shortcut around the backfill machinery, not a repository.)
 */
export async function readyMeter(pool: Pool, organizationId: string, slug: string): Promise<string> {
  const meter = await meters.get(pool, { organizationId, slug });
  await pool.query(`UPDATE meter_versions SET state = 'ready' WHERE organization_id = $1 AND id = $2`, [organizationId, meter.currentVersion.id]);
  return meter.currentVersion.id;
}

export interface UsageEvent {
  subject: string;
  at: Date;
  value?: string;
  uniqueKey?: string;
}

/** Stores events carrying one meter version's value, as the sink's live path writes them. */
export async function insertUsage(clickhouse: ThrowawayDatabase, organizationId: string, versionId: string, events: readonly UsageEvent[]): Promise<void> {
  const rows: EventsRawRow[] = events.map((e) => ({
    namespace: organizationId,
    id: randomUUID(),
    source: 'it',
    type: 'api.call',
    subject: e.subject,
    time: toClickHouseDateTime(e.at.getTime()),
    time_ms: e.at.getTime(),
    data: '{}',
    ingested_at: toClickHouseDateTime(Date.now()),
    ingest_seq: '1',
    catalog_revision: '1',
    meter_version_ids: [versionId],
    meter_values: [e.value ?? '1'],
    meter_unique_keys: [e.uniqueKey ?? ''],
    meter_dimensions: [[]],
    meter_valid: [1],
  }));
  await eventsRaw.insert(clickhouse.client, rows);
}
