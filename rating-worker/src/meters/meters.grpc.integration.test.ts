import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';
import {
  callUnary, createInternalAuth, createUnaryWrapper, insecureChannel, internalClientOptions, startGrpcServer, type GrpcServer, type InternalCaller,
} from '@polaris/shared/grpc';
import { organizations } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { MeterAggregation, MeterCatalogClient, MetersClient, type MeterDefinition } from '@polaris/proto';
import { meterCatalogService } from './meter-catalog.grpc';
import { metersService } from './meters.grpc';
import { rejection } from '../test-support/rejection';

// polaris.v1.Meters and polaris.v1.MeterCatalog over a real server and a PostgreSQL database of
// their own (the catalog revision and the backfill queue are global).

const logger = createLogger('it-meters', 'silent');
type Method<Req, Res> = Parameters<typeof callUnary<Req, Res>>[1];
const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
const settings = { leaseTtlMs: 30_000, leaseGraceMs: 10_000, claimTtlMs: 60_000, maxAttempts: 5 };

const tokens: MeterDefinition = {
  eventType: 'llm.completion',
  aggregation: MeterAggregation.METER_AGGREGATION_SUM,
  valuePath: '$.usage.input_tokens',
  uniquePath: '',
  dimensions: [{ name: 'model', path: '$.model' }],
};

describe('Meters and MeterCatalog gRPC over PostgreSQL', () => {
  let db: ThrowawayPostgres;
  let server: GrpcServer;
  const clients: Array<{ close(): void }> = [];
  let orgA: string;
  let orgB: string;

  const metersAs = (caller: InternalCaller) => {
    const client = new MetersClient(`127.0.0.1:${server.port}`, insecureChannel, internalClientOptions(createInternalAuth(secret, caller)));
    clients.push(client);
    return client;
  };
  const catalogAs = (caller: InternalCaller) => {
    const client = new MeterCatalogClient(`127.0.0.1:${server.port}`, insecureChannel, internalClientOptions(createInternalAuth(secret, caller)));
    clients.push(client);
    return client;
  };
  let gateway: InstanceType<typeof MetersClient>;
  let sink: InstanceType<typeof MeterCatalogClient>;

  // Every tenant call acts for the organization it names, as the gateway does with a validated key.
  const call = <Req extends { organizationId: string }, Res>(method: Method<Req, Res>, req: Req) =>
    callUnary('meters', method, req, 5_000, { actingFor: req.organizationId });
  const createMeter = (organizationId: string, slug: string, definition: MeterDefinition = tokens) =>
    call(gateway.createMeter.bind(gateway), { organizationId, slug, name: '', description: '', definition });
  const getMeter = (organizationId: string, slug: string) => call(gateway.getMeter.bind(gateway), { organizationId, slug });
  const catalog = <Req, Res>(method: Method<Req, Res>, req: Req) => callUnary('meter-catalog', method, req, 5_000);

  beforeAll(async () => {
    db = await throwawayPostgres();
    orgA = (await organizations.create(db.pool, { name: 'Org A', slug: `a-${randomBytes(3).toString('hex')}` })).id;
    orgB = (await organizations.create(db.pool, { name: 'Org B', slug: `b-${randomBytes(3).toString('hex')}` })).id;
    const unary = createUnaryWrapper(logger, createMetricsRegistry('it'));
    server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      // As the service runs: the app role, under row-level security.
      services: [metersService(db.appPool, unary), meterCatalogService(db.appPool, unary, settings)],
      auth: createInternalAuth(secret, 'rating-worker'),
      logger,
    });
    gateway = metersAs('gateway');
    sink = catalogAs('sink-worker');
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.stop(1_000);
    await db?.drop();
  });

  it('creates, reads, lists, updates and archives a meter, with the aggregation as an enum', async () => {
    const created = await createMeter(orgA, 'input_tokens');
    expect(created).toMatchObject({
      organizationId: orgA,
      slug: 'input_tokens',
      name: 'input_tokens',
      status: 'active',
      currentVersion: { version: 1, state: 'backfilling', definition: tokens, segments: [] },
      latestBackfill: { state: 'queued', meterSlug: 'input_tokens', eventsDone: '0', attempts: 1, supersededByRunId: '' },
    });
    expect(created.latestBackfill?.from).toBeUndefined();
    expect(created.pendingVersion).toBeUndefined();
    expect(await getMeter(orgA, 'input_tokens')).toEqual(created);

    const listed = await call(gateway.listMeters.bind(gateway), { organizationId: orgA, includeArchived: false, pageSize: 0, pageToken: '' });
    expect(listed).toEqual({ meters: [created], nextPageToken: '' });

    const renamed = await call(gateway.updateMeter.bind(gateway), { organizationId: orgA, slug: 'input_tokens', name: 'Input tokens' });
    expect(renamed).toMatchObject({ name: 'Input tokens', description: '', currentVersion: { meterVersionId: created.currentVersion?.meterVersionId } });
    const redefined = await call(gateway.updateMeter.bind(gateway), {
      organizationId: orgA,
      slug: 'input_tokens',
      definition: { ...tokens, aggregation: MeterAggregation.METER_AGGREGATION_MAX },
    });
    // Version 1 is still backfilling, so the newest version answers and none is pending.
    expect(redefined.currentVersion).toMatchObject({ version: 2, definition: { aggregation: MeterAggregation.METER_AGGREGATION_MAX } });

    const archived = await call(gateway.archiveMeter.bind(gateway), { organizationId: orgA, slug: 'input_tokens' });
    expect(archived.status).toBe('archived');
    expect((await call(gateway.listMeters.bind(gateway), { organizationId: orgA, includeArchived: false, pageSize: 0, pageToken: '' })).meters).toEqual([]);
  });

  it('answers bad input with the code and the field', async () => {
    await createMeter(orgA, 'dupe');
    expect(await rejection(createMeter(orgA, 'dupe'))).toMatchObject({ kind: 'already_exists', code: 'meter_exists', field: 'slug' });
    expect(await rejection(createMeter(orgA, 'x', { ...tokens, aggregation: MeterAggregation.METER_AGGREGATION_UNSPECIFIED }))).toMatchObject({
      kind: 'invalid_argument',
      field: 'aggregation',
    });
    expect(await rejection(createMeter(orgA, 'x', { ...tokens, aggregation: 42 as MeterAggregation }))).toMatchObject({ field: 'aggregation' });
    expect(await rejection(createMeter(orgA, 'x', { ...tokens, valuePath: 'tokens' }))).toMatchObject({ code: 'invalid_path', field: 'value_path' });
    expect(await rejection(call(gateway.createMeter.bind(gateway), { organizationId: orgA, slug: 'x', name: '', description: '' }))).toMatchObject({ field: 'definition' });
    expect(await rejection(getMeter(orgA, 'missing'))).toMatchObject({ kind: 'not_found', code: 'meter_not_found', field: 'slug' });
    expect(
      await rejection(call(gateway.startBackfill.bind(gateway), { organizationId: orgA, slug: 'dupe', from: new Date('2024-01-01T06:00:00Z') })),
    ).toMatchObject({ code: 'invalid_backfill_range', field: 'from' });
    expect(await rejection(call(gateway.startBackfill.bind(gateway), { organizationId: orgA, slug: 'dupe' }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'backfill_in_progress',
    });
    expect(await rejection(call(gateway.getBackfill.bind(gateway), { organizationId: orgA, backfillRunId: 'abc' }))).toMatchObject({ field: 'backfill_run_id' });
  });

  it("finds nothing of another organization's, by slug or by run id", async () => {
    const theirs = await createMeter(orgA, 'private_meter');
    const runId = theirs.latestBackfill?.backfillRunId ?? '';
    const notFound = { kind: 'not_found', code: 'meter_not_found' };
    expect(await rejection(getMeter(orgB, 'private_meter'))).toMatchObject(notFound);
    expect(await rejection(call(gateway.updateMeter.bind(gateway), { organizationId: orgB, slug: 'private_meter', name: 'mine' }))).toMatchObject(notFound);
    expect(await rejection(call(gateway.archiveMeter.bind(gateway), { organizationId: orgB, slug: 'private_meter' }))).toMatchObject(notFound);
    expect(await rejection(call(gateway.startBackfill.bind(gateway), { organizationId: orgB, slug: 'private_meter' }))).toMatchObject(notFound);
    expect(await rejection(call(gateway.getBackfill.bind(gateway), { organizationId: orgB, backfillRunId: runId }))).toMatchObject({ kind: 'not_found', code: 'backfill_run_not_found' });
    // Naming the owner's organization while acting for another is refused before any handler runs.
    const crossed = callUnary('meters', gateway.getMeter.bind(gateway), { organizationId: orgA, slug: 'private_meter' }, 5_000, { actingFor: orgB });
    expect(await rejection(crossed)).toMatchObject({ code: 'organization_mismatch' });
    expect(await getMeter(orgA, 'private_meter')).toEqual(theirs);
  });

  it('lets only the sink-worker use the catalog', async () => {
    const fromGateway = catalogAs('gateway');
    const refused = callUnary('meter-catalog', fromGateway.syncCatalog.bind(fromGateway), { instanceId: 'x', takeLease: true, holdingRevision: '' }, 5_000);
    expect(await rejection(refused)).toMatchObject({ code: 'caller_not_allowed' });
  });

  it('serves a sink the whole backfill cycle: sync, claim, progress, complete', async () => {
    // The queue is shared with the tests above: take their runs out of the way first.
    await db.pool.query(`UPDATE meter_backfill_runs SET state = 'failed' WHERE state IN ('queued', 'running')`);
    const meter = await createMeter(orgB, 'calls', { eventType: 'api.call', aggregation: MeterAggregation.METER_AGGREGATION_COUNT, valuePath: '', uniquePath: '', dimensions: [] });
    const versionId = meter.currentVersion?.meterVersionId;

    const synced = await catalog(sink.syncCatalog.bind(sink), { instanceId: 'sink-1', takeLease: true, holdingRevision: '' });
    expect(synced).toMatchObject({ revision: meter.currentVersion?.catalogRevision, leaseTtlMs: 30_000 });
    expect(synced.versions).toContainEqual({
      organizationId: orgB,
      meterSlug: 'calls',
      meterVersionId: versionId,
      catalogRevision: meter.currentVersion?.catalogRevision,
      definition: { eventType: 'api.call', aggregation: MeterAggregation.METER_AGGREGATION_COUNT, valuePath: '', uniquePath: '', dimensions: [] },
    });

    const { claimed } = await catalog(sink.claimBackfill.bind(sink), { workerId: 'w1' });
    expect(claimed).toMatchObject({ run: { backfillRunId: meter.latestBackfill?.backfillRunId, state: 'running' }, version: { meterVersionId: versionId }, claimTtlMs: 60_000 });
    expect(await catalog(sink.claimBackfill.bind(sink), { workerId: 'w2' })).toEqual({});
    const runId = claimed?.run?.backfillRunId ?? '';

    expect(await catalog(sink.reportBackfillProgress.bind(sink), { backfillRunId: runId, workerId: 'w1', eventsDone: '5', eventsTotal: '10' })).toEqual({ cancelled: false });
    expect(await rejection(catalog(sink.reportBackfillProgress.bind(sink), { backfillRunId: runId, workerId: 'w1', eventsDone: '18446744073709551615', eventsTotal: '10' }))).toMatchObject({
      field: 'events_done',
    });
    const progress = await call(gateway.getBackfill.bind(gateway), { organizationId: orgB, backfillRunId: runId });
    expect(progress).toMatchObject({ state: 'running', eventsDone: '5', eventsTotal: '10' });

    const done = await catalog(sink.completeBackfill.bind(sink), { backfillRunId: runId, workerId: 'w1', eventsDone: '10' });
    expect(done).toMatchObject({ state: 'completed', eventsDone: '10', eventsTotal: '10', finishedAt: expect.any(Date) });
    const ready = await getMeter(orgB, 'calls');
    expect(ready.currentVersion).toMatchObject({ state: 'ready', segments: [{ backfillRunId: runId, from: new Date(0) }] });
    expect(ready.currentVersion?.segments[0]?.to).toBeUndefined();
    expect(await rejection(catalog(sink.failBackfill.bind(sink), { backfillRunId: runId, workerId: 'w1', error: 'late' }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'backfill_not_claimed',
    });

    // A manual rebuild of January, on the ready version.
    const started = await call(gateway.startBackfill.bind(gateway), { organizationId: orgB, slug: 'calls', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-02-01T00:00:00Z') });
    expect(started).toMatchObject({ state: 'queued', meterVersionId: versionId, from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-02-01T00:00:00Z') });
    const next = await catalog(sink.claimBackfill.bind(sink), { workerId: 'w2' });
    expect(next.claimed?.run?.backfillRunId).toBe(started.backfillRunId);
    const failed = await catalog(sink.failBackfill.bind(sink), { backfillRunId: started.backfillRunId, workerId: 'w2', error: 'ClickHouse is down' });
    expect(failed).toMatchObject({ state: 'failed', error: 'ClickHouse is down' });
  });
});
