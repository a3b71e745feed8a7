import { backfillRuns, meters, type Pool } from '@polaris/postgres';
import { type GrpcServiceBinding, type UnaryWrapper } from '@polaris/shared/grpc';
import {
  MetersService,
  type BackfillRun,
  type CreateMeterRequest,
  type GetBackfillRequest,
  type GetMeterRequest,
  type ListMetersRequest,
  type ListMetersResponse,
  type Meter,
  type StartBackfillRequest,
  type UpdateMeterRequest,
} from '@polaris/proto';
import { definitionFromProto, meterToProto, runToProto } from './meter-proto';
import { batchGetMeters } from './meters-batch.grpc';

/**
 * polaris.v1.Meters over PostgreSQL. Every call is bound to the request's organization_id (taken
 * by the caller from a validated credential); the repositories filter every query by it.
 */
export function metersService(pool: Pool, unary: UnaryWrapper): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.Meters/${name}`;
  return {
    name: 'polaris.v1.Meters',
    definition: MetersService,
    // Each call acts for the organization of the API key the gateway validated. The sink-worker
    // reads a meter (its versions and segments) to answer Usage.QueryMeter for that same org.
    access: {
      createMeter: { callers: ['gateway'], organization: 'request' },
      getMeter: { callers: ['gateway', 'sink-worker'], organization: 'request' },
      listMeters: { callers: ['gateway'], organization: 'request' },
      updateMeter: { callers: ['gateway'], organization: 'request' },
      archiveMeter: { callers: ['gateway'], organization: 'request' },
      startBackfill: { callers: ['gateway'], organization: 'request' },
      getBackfill: { callers: ['gateway'], organization: 'request' },
      batchGetMeters: { callers: ['gateway'], organization: 'request' },
    },
    implementation: {
      createMeter: unary<CreateMeterRequest, Meter>(method('CreateMeter'), async (req) =>
        meterToProto(
          await meters.create(pool, {
            organizationId: req.organizationId,
            slug: req.slug,
            name: req.name,
            description: req.description,
            definition: definitionFromProto(req.definition),
            ...(req.backfillFrom ? { backfillFrom: req.backfillFrom } : {}),
          }),
        ),
      ),
      getMeter: unary<GetMeterRequest, Meter>(method('GetMeter'), async (req) =>
        meterToProto(await meters.get(pool, { organizationId: req.organizationId, slug: req.slug })),
      ),
      listMeters: unary<ListMetersRequest, ListMetersResponse>(method('ListMeters'), async (req) => {
        const page = await meters.list(pool, {
          organizationId: req.organizationId,
          includeArchived: req.includeArchived,
          pageSize: req.pageSize,
          pageToken: req.pageToken,
        });
        return { meters: page.meters.map(meterToProto), nextPageToken: page.nextPageToken ?? '' };
      }),
      updateMeter: unary<UpdateMeterRequest, Meter>(method('UpdateMeter'), async (req) =>
        meterToProto(
          await meters.update(pool, {
            organizationId: req.organizationId,
            slug: req.slug,
            ...(req.name !== undefined ? { name: req.name } : {}),
            ...(req.description !== undefined ? { description: req.description } : {}),
            ...(req.definition ? { definition: definitionFromProto(req.definition) } : {}),
          }),
        ),
      ),
      archiveMeter: unary<GetMeterRequest, Meter>(method('ArchiveMeter'), async (req) =>
        meterToProto(await meters.archive(pool, { organizationId: req.organizationId, slug: req.slug })),
      ),
      startBackfill: unary<StartBackfillRequest, BackfillRun>(method('StartBackfill'), async (req) =>
        runToProto(
          await backfillRuns.start(pool, {
            organizationId: req.organizationId,
            slug: req.slug,
            ...(req.from ? { from: req.from } : {}),
            ...(req.to ? { to: req.to } : {}),
          }),
        ),
      ),
      getBackfill: unary<GetBackfillRequest, BackfillRun>(method('GetBackfill'), async (req) =>
        runToProto(await backfillRuns.get(pool, { organizationId: req.organizationId, runId: req.backfillRunId })),
      ),
      batchGetMeters: batchGetMeters(pool, unary),
    },
  };
}
