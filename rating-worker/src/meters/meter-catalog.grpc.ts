import { backfillQueue, meterCatalog, type BackfillQueueSettings, type LeaseSettings, type Pool } from '@polaris/postgres';
import { type GrpcServiceBinding, type UnaryWrapper } from '@polaris/shared/grpc';
import {
  MeterCatalogService,
  type BackfillRun,
  type ClaimBackfillRequest,
  type ClaimBackfillResponse,
  type CompleteBackfillRequest,
  type FailBackfillRequest,
  type ReportBackfillProgressRequest,
  type ReportBackfillProgressResponse,
  type SyncCatalogRequest,
  type SyncCatalogResponse,
} from '@polaris/proto';
import { catalogVersionToProto, countFromProto, runToProto } from './meter-proto';

export type MeterCatalogSettings = LeaseSettings & BackfillQueueSettings;

/**
 * polaris.v1.MeterCatalog over PostgreSQL: the catalog sinks extract with, their leases, and the
 * backfill queue. Internal to the sink-worker, across organizations.
 */
export function meterCatalogService(pool: Pool, unary: UnaryWrapper, settings: MeterCatalogSettings): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.MeterCatalog/${name}`;
  return {
    name: 'polaris.v1.MeterCatalog',
    definition: MeterCatalogService,
    // The catalog of every organization, and the backfill queue: the sink-worker's alone.
    access: {
      syncCatalog: { callers: ['sink-worker'], organization: 'none' },
      claimBackfill: { callers: ['sink-worker'], organization: 'none' },
      reportBackfillProgress: { callers: ['sink-worker'], organization: 'none' },
      completeBackfill: { callers: ['sink-worker'], organization: 'none' },
      failBackfill: { callers: ['sink-worker'], organization: 'none' },
    },
    implementation: {
      syncCatalog: unary<SyncCatalogRequest, SyncCatalogResponse>(method('SyncCatalog'), async (req) => {
        const snapshot = await meterCatalog.sync(pool, { instanceId: req.instanceId, takeLease: req.takeLease, holdingRevision: req.holdingRevision }, settings);
        return { revision: snapshot.revision, leaseTtlMs: settings.leaseTtlMs, versions: snapshot.versions.map(catalogVersionToProto) };
      }),
      claimBackfill: unary<ClaimBackfillRequest, ClaimBackfillResponse>(method('ClaimBackfill'), async (req) => {
        const claimed = await backfillQueue.claim(pool, { workerId: req.workerId }, settings);
        if (!claimed) return {};
        return { claimed: { run: runToProto(claimed.run), version: catalogVersionToProto(claimed.version), claimTtlMs: claimed.claimTtlMs } };
      }),
      reportBackfillProgress: unary<ReportBackfillProgressRequest, ReportBackfillProgressResponse>(method('ReportBackfillProgress'), async (req) =>
        backfillQueue.reportProgress(
          pool,
          {
            runId: req.backfillRunId,
            workerId: req.workerId,
            eventsDone: countFromProto(req.eventsDone, 'events_done'),
            eventsTotal: countFromProto(req.eventsTotal, 'events_total'),
          },
          settings,
        ),
      ),
      completeBackfill: unary<CompleteBackfillRequest, BackfillRun>(method('CompleteBackfill'), async (req) =>
        runToProto(
          await backfillQueue.complete(pool, { runId: req.backfillRunId, workerId: req.workerId, eventsDone: countFromProto(req.eventsDone, 'events_done') }),
        ),
      ),
      failBackfill: unary<FailBackfillRequest, BackfillRun>(method('FailBackfill'), async (req) =>
        runToProto(await backfillQueue.fail(pool, { runId: req.backfillRunId, workerId: req.workerId, error: req.error })),
      ),
    },
  };
}
