import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { organizations } from '../identity/organizations.repository';
import type { Pool } from '../pool';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { backfillQueue, type BackfillQueueSettings } from './backfill-queue.repository';
import { backfillRuns } from './backfill-runs.repository';
import { meterCatalog } from './meter-catalog.repository';
import { meters } from './meters.repository';

// The sink-worker's side over a real PostgreSQL: catalog sync and leases, the lease barrier,
// claims, progress, completion. The queue is global, so every test gets a database of its own.

let db: ThrowawayPostgres;
let pool: Pool;
let organizationId: string;

beforeEach(async () => {
  db = await throwawayPostgres();
  pool = db.pool;
  const slug = `test-${randomBytes(4).toString('hex')}`;
  organizationId = (await organizations.create(pool, { name: slug, slug })).id;
});
afterEach(async () => db?.drop());

const settings: BackfillQueueSettings = { claimTtlMs: 60_000, leaseGraceMs: 10_000, maxAttempts: 3 };
const lease = { leaseTtlMs: 30_000 };
const tokens = { eventType: 'llm.completion', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [] };
const DAY = 86_400_000;

const create = (slug: string, definition: object = tokens) => meters.create(pool, { organizationId, slug, definition });
const sync = (instanceId: string, takeLease = true) => meterCatalog.sync(pool, { instanceId, takeLease }, lease);
const claim = (workerId = 'w1') => backfillQueue.claim(pool, { workerId }, settings);
const refusal = (p: Promise<unknown>) => p.then(() => new Error('expected a refusal'), (err: unknown) => err);
const leases = async () =>
  (await pool.query<{ instance_id: string; revision: string; ttl: number }>(
    `SELECT instance_id, revision::text, round(extract(epoch FROM expires_at - now()))::int AS ttl FROM sink_catalog_leases ORDER BY 1`,
  )).rows;

describe('SyncCatalog', () => {
  it('returns every live version at one revision, and leases that revision to a storing sink', async () => {
    const a = await create('a');
    const b = await create('b', { eventType: 'x', aggregation: 'COUNT' });
    await create('c');
    await meters.archive(pool, { organizationId, slug: 'c' });

    const snapshot = await sync('sink-1');
    expect(snapshot.revision).toBe('4');
    expect(snapshot.versions).toEqual([
      { organizationId, meterSlug: 'a', meterVersionId: a.currentVersion.id, catalogRevision: '1', definition: tokens },
      { organizationId, meterSlug: 'b', meterVersionId: b.currentVersion.id, catalogRevision: '2', definition: { eventType: 'x', aggregation: 'COUNT', dimensions: [] } },
    ]);
    expect(await leases()).toEqual([{ instance_id: 'sink-1', revision: '4', ttl: 30 }]);

    expect((await sync('reader', false)).revision).toBe('4');
    expect(await leases()).toHaveLength(1);
    expect(await refusal(sync(''))).toMatchObject({ code: 'invalid_instance_id', field: 'instance_id' });
  });
});

describe('SyncCatalog during a catalog change', () => {
  it('waits for the change to commit and returns it whole, never a revision without its versions', async () => {
    const change = await pool.connect();
    try {
      // A create in flight: revision bumped, version inserted, not committed yet.
      await change.query('BEGIN');
      await change.query('UPDATE meter_catalog_revision SET revision = revision + 1');
      const { rows } = await change.query<{ id: string }>(
        `INSERT INTO meters (organization_id, slug, name) VALUES ($1, 'racing', 'racing') RETURNING id`,
        [organizationId],
      );
      await change.query(
        `INSERT INTO meter_versions (organization_id, meter_id, version, definition, catalog_revision, state) VALUES ($1, $2, 1, $3, 1, 'backfilling')`,
        [organizationId, rows[0]?.id, JSON.stringify(tokens)],
      );
      let settled = false;
      const syncing = sync('sink-1').finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(settled).toBe(false);
      await change.query('COMMIT');
      const snapshot = await syncing;
      expect(snapshot.revision).toBe('1');
      expect(snapshot.versions.map((v) => v.meterSlug)).toEqual(['racing']);
      expect(await leases()).toMatchObject([{ instance_id: 'sink-1', revision: '1' }]);
    } finally {
      change.release();
    }
  });
});

describe('the lease barrier', () => {
  it('holds a run back while a sink leases an older revision, until it syncs again', async () => {
    await sync('sink-1');
    await sync('sink-2');
    const meter = await create('a'); // revision 1; both sinks still hold 0
    expect(await claim()).toBeUndefined();
    await sync('sink-1');
    expect(await claim()).toBeUndefined();
    await sync('sink-2');
    const claimed = await claim();
    expect(claimed).toMatchObject({
      run: { id: meter.latestBackfill?.id, state: 'running', claimedBy: 'w1', organizationId, meterSlug: 'a' },
      version: { meterVersionId: meter.currentVersion.id, catalogRevision: '1', definition: tokens },
      claimTtlMs: 60_000,
    });
    expect((claimed?.run.claimedUntil?.getTime() ?? 0) - Date.now()).toBeGreaterThan(50_000);
    expect(await claim('w2')).toBeUndefined();
  });

  it('holds a run back while a sink still has an INSERT in flight stamped before the version, though it synced the new revision', async () => {
    await sync('sink-1');
    await create('a'); // revision 1
    // The sink synced revision 1, but an INSERT stamped at revision 0 has not landed yet.
    await meterCatalog.sync(pool, { instanceId: 'sink-1', takeLease: true, holdingRevision: '0' }, lease);
    expect(await leases()).toMatchObject([{ instance_id: 'sink-1', revision: '0' }]);
    expect(await claim()).toBeUndefined();
    await meterCatalog.sync(pool, { instanceId: 'sink-1', takeLease: true }, lease); // the INSERT ended
    expect(await claim()).toBeDefined();
  });

  it('counts a lease that expired less than the grace ago, and no longer after that', async () => {
    await sync('sink-1');
    await create('a');
    await pool.query(`UPDATE sink_catalog_leases SET expires_at = now() - interval '5 seconds'`);
    expect(await claim()).toBeUndefined();
    await pool.query(`UPDATE sink_catalog_leases SET expires_at = now() - interval '11 seconds'`);
    expect(await claim()).toBeDefined();
  });

  it('lets a run start at once when no sink holds a lease', async () => {
    await create('a');
    expect(await claim()).toBeDefined();
  });
});

describe('claims', () => {
  it('hands each run to one worker, oldest first', async () => {
    const runs = [await create('a'), await create('b'), await create('c')].map((m) => m.latestBackfill?.id);
    const claimed = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => claim(w)));
    expect(claimed.map((c) => c?.run.id).filter(Boolean).sort()).toEqual([...runs].sort());
    expect(claimed.filter((c) => c === undefined)).toHaveLength(1);
  });

  it('supersedes a run whose worker stopped reporting with a fresh run over the same range', async () => {
    await create('a');
    await pool.query(`UPDATE meter_backfill_runs SET state = 'failed'`);
    const manual = await backfillRuns.start(pool, { organizationId, slug: 'a', from: new Date(10 * DAY), to: new Date(12 * DAY) });
    const first = await claim('w1');
    expect(first?.run.id).toBe(manual.id);
    expect(await claim('w2')).toBeUndefined();

    await pool.query(`UPDATE meter_backfill_runs SET claimed_until = now() - interval '1 second' WHERE id = $1`, [manual.id]);
    const second = await claim('w2');
    expect(second?.run).toMatchObject({ state: 'running', claimedBy: 'w2', attempts: 2, fromMs: 10 * DAY, toMs: 12 * DAY });
    expect(second?.run.id).not.toBe(manual.id);
    expect(await backfillRuns.get(pool, { organizationId, runId: manual.id })).toMatchObject({
      state: 'superseded',
      supersededBy: second?.run.id,
      error: `worker w1 stopped reporting; run ${second?.run.id} took over`,
    });
    // The first worker learns it at its next report, and can complete nothing.
    expect(await backfillQueue.reportProgress(pool, { runId: manual.id, workerId: 'w1', eventsDone: 5, eventsTotal: 9 }, settings)).toEqual({ cancelled: true });
    expect(await refusal(backfillQueue.complete(pool, { runId: manual.id, workerId: 'w1', eventsDone: 9 }))).toMatchObject({
      kind: 'failed_precondition',
      code: 'backfill_not_claimed',
    });

    // A third expiry reaches maxAttempts (3): the run fails instead of looping forever.
    await pool.query(`UPDATE meter_backfill_runs SET claimed_until = now() - interval '1 second' WHERE state = 'running'`);
    const third = await claim('w3');
    expect(third?.run.attempts).toBe(3);
    await pool.query(`UPDATE meter_backfill_runs SET claimed_until = now() - interval '1 second' WHERE state = 'running'`);
    expect(await claim('w4')).toBeUndefined();
    expect(await backfillRuns.get(pool, { organizationId, runId: third?.run.id ?? '' })).toMatchObject({ state: 'failed', error: expect.stringContaining('gave up after 3 attempts') });
  });

  it('keeps a claim alive with progress, and cancels a worker whose meter was archived', async () => {
    await create('a');
    const claimed = await claim('w1');
    const runId = claimed?.run.id ?? '';
    await pool.query(`UPDATE meter_backfill_runs SET claimed_until = now() + interval '1 second'`);
    expect(await backfillQueue.reportProgress(pool, { runId, workerId: 'w1', eventsDone: 40, eventsTotal: 100 }, settings)).toEqual({ cancelled: false });
    expect(await backfillRuns.get(pool, { organizationId, runId })).toMatchObject({ eventsDone: 40, eventsTotal: 100 });
    const until = (await backfillRuns.get(pool, { organizationId, runId })).claimedUntil?.getTime() ?? 0;
    expect(until - Date.now()).toBeGreaterThan(50_000);
    expect(await backfillQueue.reportProgress(pool, { runId, workerId: 'w2', eventsDone: 1, eventsTotal: 1 }, settings)).toEqual({ cancelled: true });
    expect(await refusal(backfillQueue.reportProgress(pool, { runId, workerId: 'w1', eventsDone: -1, eventsTotal: 1 }, settings))).toMatchObject({ field: 'events_done' });

    await meters.archive(pool, { organizationId, slug: 'a' });
    expect(await backfillQueue.reportProgress(pool, { runId, workerId: 'w1', eventsDone: 50, eventsTotal: 100 }, settings)).toEqual({ cancelled: true });
  });
});

describe('completing and failing', () => {
  it('makes the version ready with its segment, retires the older one, and moves the revision on', async () => {
    const v1 = await create('a');
    const first = await claim();
    await backfillQueue.complete(pool, { runId: first?.run.id ?? '', workerId: 'w1', eventsDone: 7 });
    const ready = await meters.get(pool, { organizationId, slug: 'a' });
    expect(ready.currentVersion).toMatchObject({ id: v1.currentVersion.id, state: 'ready', segments: [{ run: first?.run.id, fromMs: 0, toMs: null }] });
    expect(ready.latestBackfill).toMatchObject({ state: 'completed', eventsDone: 7, eventsTotal: 7, finishedAt: expect.any(Date) });
    expect((await sync('sink-1')).revision).toBe('2');

    const v2 = await meters.update(pool, { organizationId, slug: 'a', definition: { ...tokens, aggregation: 'MAX' } });
    expect(v2.pendingVersion?.catalogRevision).toBe('3');
    expect(await claim()).toBeUndefined(); // sink-1 holds revision 2
    expect((await sync('sink-1')).versions.map((v) => v.meterVersionId)).toEqual([v1.currentVersion.id, v2.pendingVersion?.id]);
    const second = await claim();
    expect(second?.version.meterVersionId).toBe(v2.pendingVersion?.id);
    await backfillQueue.complete(pool, { runId: second?.run.id ?? '', workerId: 'w1', eventsDone: 3 });

    const after = await meters.get(pool, { organizationId, slug: 'a' });
    expect(after.currentVersion).toMatchObject({ version: 2, state: 'ready' });
    expect(after.pendingVersion).toBeUndefined();
    const snapshot = await sync('sink-1');
    expect(snapshot.revision).toBe('4');
    expect(snapshot.versions.map((v) => v.meterVersionId)).toEqual([v2.pendingVersion?.id]);
  });

  it('cuts the segments of a ready version around a range rebuilt later', async () => {
    await create('a');
    const whole = await claim();
    await backfillQueue.complete(pool, { runId: whole?.run.id ?? '', workerId: 'w1', eventsDone: 1 });
    const range = await backfillRuns.start(pool, { organizationId, slug: 'a', from: new Date(3 * DAY), to: new Date(5 * DAY) });
    expect((await claim('w2'))?.run.id).toBe(range.id);
    await backfillQueue.complete(pool, { runId: range.id, workerId: 'w2', eventsDone: 1 });
    expect((await meters.get(pool, { organizationId, slug: 'a' })).currentVersion.segments).toEqual([
      { run: whole?.run.id, fromMs: 0, toMs: 3 * DAY },
      { run: range.id, fromMs: 3 * DAY, toMs: 5 * DAY },
      { run: whole?.run.id, fromMs: 5 * DAY, toMs: null },
    ]);
  });

  it('fails a run with the reason, which StartBackfill can retry', async () => {
    const meter = await create('a');
    const claimed = await claim();
    const runId = claimed?.run.id ?? '';
    expect(await refusal(backfillQueue.fail(pool, { runId, workerId: 'w2', error: 'x' }))).toMatchObject({ code: 'backfill_not_claimed' });
    const failed = await backfillQueue.fail(pool, { runId, workerId: 'w1', error: '  ClickHouse said no  ' });
    expect(failed).toMatchObject({ state: 'failed', error: 'ClickHouse said no', finishedAt: expect.any(Date) });
    expect((await meters.get(pool, { organizationId, slug: 'a' })).currentVersion.state).toBe('backfilling');
    const retry = await backfillRuns.start(pool, { organizationId, slug: 'a' });
    expect(retry).toMatchObject({ state: 'queued', meterVersionId: meter.currentVersion.id });
    expect((await claim())?.run.id).toBe(retry.id);
    expect(await refusal(backfillQueue.complete(pool, { runId: '999999', workerId: 'w1', eventsDone: 0 }))).toMatchObject({ code: 'backfill_not_claimed' });
  });
});
