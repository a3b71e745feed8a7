import type { MeterCatalogClient, CatalogMeterVersion } from '@polaris/proto';
import { callUnary } from '@polaris/shared/grpc';
import { checkMeterDefinition, meterDefinitionFromProto, type MeterDefinition } from '@polaris/shared/meters';
import type { BackfillCatalog, ClaimedRun } from './backfill.runner';
import type { CatalogSync } from './catalog-lease';

type Catalog = InstanceType<typeof MeterCatalogClient>;

const PEER = 'meter catalog';

/** MeterCatalog.SyncCatalog with a lease, as the sink's CatalogLease calls it. */
export function catalogSyncVia(client: Catalog, instanceId: string, deadlineMs: number): (holdingRevision: string | undefined) => Promise<CatalogSync> {
  return async (holdingRevision) => {
    const res = await callUnary(PEER, client.syncCatalog.bind(client), { instanceId, takeLease: true, holdingRevision: holdingRevision ?? '' }, deadlineMs);
    return {
      revision: res.revision,
      leaseTtlMs: res.leaseTtlMs,
      // Not checked here: one definition that fails the check must not fail the whole sync for
      // every tenant. The snapshot compiles (and so checks) each one, and stamps the events of
      // one that fails as invalid.
      versions: res.versions.map((v) => ({ ...versionFields(v), definition: meterDefinitionFromProto(v.definition) as MeterDefinition })),
    };
  };
}

/** MeterCatalog.SyncCatalog without a lease: the Usage API reads the catalog and stores nothing. */
export function catalogViewVia(client: Catalog, instanceId: string, deadlineMs: number): () => Promise<Pick<CatalogSync, 'revision' | 'versions'>> {
  return async () => {
    const res = await callUnary(PEER, client.syncCatalog.bind(client), { instanceId, takeLease: false, holdingRevision: '' }, deadlineMs);
    // Unchecked, as for the sink: the snapshot compiles each definition and reports one that fails.
    return { revision: res.revision, versions: res.versions.map((v) => ({ ...versionFields(v), definition: meterDefinitionFromProto(v.definition) as MeterDefinition })) };
  };
}

/** MeterCatalog's backfill calls, as the BackfillRunner uses them. */
export function backfillCatalogVia(client: Catalog, workerId: string, deadlineMs: number): BackfillCatalog {
  return {
    claim: async (): Promise<ClaimedRun | undefined> => {
      const { claimed } = await callUnary(PEER, client.claimBackfill.bind(client), { workerId }, deadlineMs);
      if (!claimed?.run || !claimed.version) return undefined;
      const { run, version } = claimed;
      return {
        backfillRunId: run.backfillRunId,
        organizationId: run.organizationId,
        meterVersionId: version.meterVersionId,
        catalogRevision: version.catalogRevision,
        definition: checkMeterDefinition(meterDefinitionFromProto(version.definition)),
        fromMs: run.from?.getTime(),
        toMs: run.to?.getTime(),
      };
    },
    report: async (runId, done, total) => {
      const res = await callUnary(
        PEER,
        client.reportBackfillProgress.bind(client),
        { backfillRunId: runId, workerId, eventsDone: String(done), eventsTotal: String(total) },
        deadlineMs,
      );
      return { cancelled: res.cancelled };
    },
    complete: async (runId, done) => {
      await callUnary(PEER, client.completeBackfill.bind(client), { backfillRunId: runId, workerId, eventsDone: String(done) }, deadlineMs);
    },
  };
}

function versionFields(v: CatalogMeterVersion) {
  return { organizationId: v.organizationId, meterSlug: v.meterSlug, meterVersionId: v.meterVersionId, catalogRevision: v.catalogRevision };
}
