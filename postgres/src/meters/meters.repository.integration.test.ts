import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations, type Organization } from '../identity/organizations.repository';
import type { Pool } from '../pool';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { backfillRuns } from './backfill-runs.repository';
import { meterCatalog } from './meter-catalog.repository';
import { meters } from './meters.repository';

// The tenant side of meters over a real PostgreSQL: a database of its own, since the catalog
// revision is global. The sink side (catalog, claims) is meter-backfill.integration.test.ts.

let db: ThrowawayPostgres;
let pool: Pool;

beforeAll(async () => {
  db = await throwawayPostgres();
  pool = db.pool;
});
afterAll(async () => db?.drop());

async function freshOrg(): Promise<Organization> {
  const slug = `test-${randomBytes(4).toString('hex')}`;
  return organizations.create(pool, { name: slug, slug });
}

async function refusal(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err,
  );
}

const revision = async () => (await meterCatalog.sync(pool, { instanceId: 'reader', takeLease: false }, { leaseTtlMs: 1 })).revision;
const rowCounts = async (organizationId: string) => {
  const { rows } = await pool.query<{ meters: string; versions: string; runs: string }>(
    `SELECT (SELECT count(*) FROM meters WHERE organization_id = $1) AS meters,
            (SELECT count(*) FROM meter_versions WHERE organization_id = $1) AS versions,
            (SELECT count(*) FROM meter_backfill_runs WHERE organization_id = $1) AS runs`,
    [organizationId],
  );
  return rows[0];
};

const tokens = { eventType: 'llm.completion', aggregation: 'SUM', valuePath: '$.usage.input_tokens', dimensions: [{ name: 'model', path: '$.model' }] };

describe('creating a meter', () => {
  it('makes version 1, backfilling at a new revision, with a whole-history run queued', async () => {
    const org = await freshOrg();
    const before = BigInt(await revision());
    const meter = await meters.create(pool, { organizationId: org.id, slug: 'input_tokens', definition: tokens });
    expect(meter).toMatchObject({
      organizationId: org.id,
      slug: 'input_tokens',
      name: 'input_tokens',
      description: '',
      status: 'active',
      currentVersion: { version: 1, state: 'backfilling', segments: [], definition: tokens },
      latestBackfill: { state: 'queued', fromMs: null, toMs: null, meterSlug: 'input_tokens', meterVersion: 1, attempts: 1 },
    });
    expect(meter.pendingVersion).toBeUndefined();
    expect(BigInt(meter.currentVersion.catalogRevision)).toBeGreaterThan(before);
    expect(await revision()).toBe(meter.currentVersion.catalogRevision);
    expect(await meters.get(pool, { organizationId: org.id, slug: 'input_tokens' })).toEqual(meter);
  });

  it('stores the definition canonical, and backfills from a given UTC day', async () => {
    const org = await freshOrg();
    const meter = await meters.create(pool, {
      organizationId: org.id,
      slug: 'users',
      name: ' Active users ',
      description: 'distinct users',
      definition: { eventType: 'api.call', aggregation: 'UNIQUE_COUNT', uniquePath: `$['user']["id"]`, valuePath: '' },
      backfillFrom: new Date('2024-05-01T00:00:00Z'),
    });
    expect(meter.name).toBe('Active users');
    expect(meter.currentVersion.definition).toEqual({ eventType: 'api.call', aggregation: 'UNIQUE_COUNT', uniquePath: '$.user.id', dimensions: [] });
    expect(meter.latestBackfill).toMatchObject({ fromMs: Date.UTC(2024, 4, 1), toMs: null });
  });

  it('refuses bad input naming the field, and leaves nothing behind', async () => {
    const org = await freshOrg();
    await meters.create(pool, { organizationId: org.id, slug: 'taken', definition: tokens });
    const cases: Array<[object, object]> = [
      [{ slug: 'Bad-Slug' }, { kind: 'invalid_argument', code: 'invalid_slug', field: 'slug' }],
      [{ definition: { ...tokens, aggregation: 'MEDIAN' } }, { kind: 'invalid_argument', code: 'invalid_aggregation', field: 'aggregation' }],
      [{ definition: { ...tokens, valuePath: '$..tokens' } }, { kind: 'invalid_argument', code: 'invalid_path', field: 'value_path' }],
      [{ definition: { ...tokens, aggregation: 'COUNT' } }, { code: 'unexpected_value_path', field: 'value_path' }],
      [{ name: 'x'.repeat(201) }, { code: 'invalid_meter_name', field: 'name' }],
      [{ description: 'x'.repeat(2001) }, { code: 'invalid_meter_description', field: 'description' }],
      [{ backfillFrom: new Date('2024-05-01T10:00:00Z') }, { code: 'invalid_backfill_range', field: 'backfill_from' }],
      [{ slug: 'taken' }, { kind: 'already_exists', code: 'meter_exists', field: 'slug' }],
      [{ organizationId: '00000000-0000-4000-8000-000000000000' }, { kind: 'not_found', code: 'organization_not_found', field: 'organization_id' }],
      [{ organizationId: 'acme' }, { kind: 'invalid_argument', code: 'invalid_organization_id', field: 'organization_id' }],
    ];
    const before = await revision();
    for (const [change, expected] of cases) {
      const err = await refusal(meters.create(pool, { organizationId: org.id, slug: 'fresh', definition: tokens, ...change }));
      expect(err, JSON.stringify(change)).toMatchObject(expected);
    }
    expect(await rowCounts(org.id)).toEqual({ meters: '1', versions: '1', runs: '1' });
    expect(await revision()).toBe(before);
  });
});

describe('updating a meter', () => {
  it('edits name and description in place, and ignores a definition that measures the same', async () => {
    const org = await freshOrg();
    const created = await meters.create(pool, { organizationId: org.id, slug: 'm', definition: tokens });
    const before = await revision();
    const updated = await meters.update(pool, {
      organizationId: org.id,
      slug: 'm',
      name: 'Input tokens',
      description: 'per model',
      definition: { ...tokens, valuePath: `$["usage"]['input_tokens']` },
    });
    expect(updated).toMatchObject({ name: 'Input tokens', description: 'per model', currentVersion: { id: created.currentVersion.id, version: 1 } });
    expect(updated.pendingVersion).toBeUndefined();
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(await revision()).toBe(before);
    expect(await rowCounts(org.id)).toEqual({ meters: '1', versions: '1', runs: '1' });
  });

  it('makes a new version for a new definition; going back to the ready one drops it', async () => {
    const org = await freshOrg();
    await meters.create(pool, { organizationId: org.id, slug: 'm', definition: tokens });
    // Version 1 is made ready as a completed backfill would (meter-backfill.integration.test.ts does it for real).
    await pool.query(`UPDATE meter_versions SET state = 'ready' WHERE organization_id = $1`, [org.id]);
    await pool.query(`UPDATE meter_backfill_runs SET state = 'completed' WHERE organization_id = $1`, [org.id]);

    const counting = { eventType: 'llm.completion', aggregation: 'COUNT', dimensions: [] };
    const before = await revision();
    const v2 = await meters.update(pool, { organizationId: org.id, slug: 'm', definition: counting });
    expect(v2.currentVersion).toMatchObject({ version: 1, state: 'ready' });
    expect(v2.pendingVersion).toMatchObject({ version: 2, state: 'backfilling', definition: counting });
    expect(v2.latestBackfill).toMatchObject({ state: 'queued', meterVersion: 2, fromMs: null });
    expect(BigInt(v2.pendingVersion?.catalogRevision ?? 0)).toBeGreaterThan(BigInt(before));

    // A third definition retires the second, still backfilling, and ends its run.
    const v3 = await meters.update(pool, { organizationId: org.id, slug: 'm', definition: { ...counting, eventType: 'llm.chat' } });
    expect(v3.pendingVersion).toMatchObject({ version: 3 });
    const states = await pool.query<{ version: number; state: string }>('SELECT version, state FROM meter_versions WHERE organization_id = $1 ORDER BY version', [
      org.id,
    ]);
    expect(states.rows).toEqual([
      { version: 1, state: 'ready' },
      { version: 2, state: 'retired' },
      { version: 3, state: 'backfilling' },
    ]);
    const runs = await pool.query<{ state: string; error: string | null }>(
      `SELECT r.state, r.error FROM meter_backfill_runs r JOIN meter_versions v ON v.id = r.meter_version_id WHERE v.organization_id = $1 AND v.version = 2`,
      [org.id],
    );
    expect(runs.rows).toEqual([{ state: 'superseded', error: 'superseded by version 3' }]);

    const back = await meters.update(pool, { organizationId: org.id, slug: 'm', definition: tokens });
    expect(back.currentVersion).toMatchObject({ version: 1, state: 'ready' });
    expect(back.pendingVersion).toBeUndefined();
    const catalog = await meterCatalog.sync(pool, { instanceId: 'reader', takeLease: false }, { leaseTtlMs: 1 });
    expect(catalog.versions.filter((v) => v.organizationId === org.id).map((v) => v.meterVersionId)).toEqual([back.currentVersion.id]);
  });

  it('refuses an unknown meter, a bad definition and an archived meter', async () => {
    const org = await freshOrg();
    await meters.create(pool, { organizationId: org.id, slug: 'm', definition: tokens });
    expect(await refusal(meters.update(pool, { organizationId: org.id, slug: 'nope', name: 'x' }))).toMatchObject({ kind: 'not_found', code: 'meter_not_found', field: 'slug' });
    expect(await refusal(meters.update(pool, { organizationId: org.id, slug: 'm', definition: { ...tokens, dimensions: [{ name: 'Model', path: '$.m' }] } }))).toMatchObject({
      field: 'dimensions[0].name',
    });
    expect(await refusal(meters.update(pool, { organizationId: org.id, slug: 'm', name: '' }))).toMatchObject({ field: 'name' });
    await meters.archive(pool, { organizationId: org.id, slug: 'm' });
    expect(await refusal(meters.update(pool, { organizationId: org.id, slug: 'm', name: 'x' }))).toMatchObject({ kind: 'failed_precondition', code: 'meter_archived' });
    expect(await rowCounts(org.id)).toEqual({ meters: '1', versions: '1', runs: '1' });
  });
});

describe('archiving a meter', () => {
  it('takes its versions out of the catalog at a new revision, ends its runs, and is idempotent', async () => {
    const org = await freshOrg();
    const created = await meters.create(pool, { organizationId: org.id, slug: 'm', definition: tokens });
    const inCatalog = async () =>
      (await meterCatalog.sync(pool, { instanceId: 'reader', takeLease: false }, { leaseTtlMs: 1 })).versions.some((v) => v.meterVersionId === created.currentVersion.id);
    expect(await inCatalog()).toBe(true);
    const before = await revision();
    const archived = await meters.archive(pool, { organizationId: org.id, slug: 'm' });
    expect(archived).toMatchObject({ status: 'archived', latestBackfill: { state: 'failed', error: 'the meter was archived' } });
    expect(BigInt(await revision())).toBeGreaterThan(BigInt(before));
    expect(await inCatalog()).toBe(false);
    const again = await meters.archive(pool, { organizationId: org.id, slug: 'm' });
    expect(again).toEqual(archived);
    expect(await refusal(backfillRuns.start(pool, { organizationId: org.id, slug: 'm' }))).toMatchObject({ code: 'meter_archived' });
  });
});

describe('listing meters', () => {
  it('pages by slug with an opaque token, archived ones only when asked', async () => {
    const org = await freshOrg();
    for (const slug of ['e', 'a', 'd', 'b', 'c']) await meters.create(pool, { organizationId: org.id, slug, definition: tokens });
    await meters.archive(pool, { organizationId: org.id, slug: 'c' });

    const slugs = async (includeArchived: boolean, size: number) => {
      const pages: string[][] = [];
      let pageToken: string | undefined;
      do {
        const page = await meters.list(pool, { organizationId: org.id, includeArchived, pageSize: size, ...(pageToken ? { pageToken } : {}) });
        pages.push(page.meters.map((m) => m.slug));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return pages;
    };
    expect(await slugs(false, 2)).toEqual([['a', 'b'], ['d', 'e']]);
    expect(await slugs(true, 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(await slugs(true, 0)).toEqual([['a', 'b', 'c', 'd', 'e']]);
    const [first] = (await meters.list(pool, { organizationId: org.id })).meters;
    expect(first).toEqual(await meters.get(pool, { organizationId: org.id, slug: 'a' }));
    expect(await refusal(meters.list(pool, { organizationId: org.id, pageToken: 'garbage' }))).toMatchObject({ field: 'page_token' });
    expect((await meters.list(pool, { organizationId: (await freshOrg()).id })).meters).toEqual([]);
  });
});

describe('tenancy', () => {
  it("never reads, changes, archives or backfills another organization's meter or run", async () => {
    const owner = await freshOrg();
    const other = await freshOrg();
    const meter = await meters.create(pool, { organizationId: owner.id, slug: 'shared_name', definition: tokens });
    const runId = meter.latestBackfill?.id ?? '';
    const asOther = { organizationId: other.id, slug: 'shared_name' };
    const notFound = { kind: 'not_found', code: 'meter_not_found', field: 'slug' };

    expect(await refusal(meters.get(pool, asOther))).toMatchObject(notFound);
    expect(await refusal(meters.update(pool, { ...asOther, name: 'stolen', definition: { ...tokens, aggregation: 'MAX' } }))).toMatchObject(notFound);
    expect(await refusal(meters.archive(pool, asOther))).toMatchObject(notFound);
    expect(await refusal(backfillRuns.start(pool, asOther))).toMatchObject(notFound);
    expect(await refusal(backfillRuns.get(pool, { organizationId: other.id, runId }))).toMatchObject({ kind: 'not_found', code: 'backfill_run_not_found' });
    expect((await meters.list(pool, { organizationId: other.id, includeArchived: true })).meters).toEqual([]);

    // The other organization may use the same slug for a meter of its own; the owner's is untouched.
    await meters.create(pool, { ...asOther, definition: { ...tokens, aggregation: 'MAX' } });
    expect(await meters.get(pool, { organizationId: owner.id, slug: 'shared_name' })).toEqual(meter);
    expect(await backfillRuns.get(pool, { organizationId: owner.id, runId })).toEqual(meter.latestBackfill);
  });
});

describe('starting a backfill', () => {
  it('queues a run on the newest live version for whole UTC days, one at a time', async () => {
    const org = await freshOrg();
    const meter = await meters.create(pool, { organizationId: org.id, slug: 'm', definition: tokens });
    const slug = { organizationId: org.id, slug: 'm' };
    expect(await refusal(backfillRuns.start(pool, slug))).toMatchObject({ kind: 'failed_precondition', code: 'backfill_in_progress' });
    await pool.query(`UPDATE meter_backfill_runs SET state = 'failed', error = 'boom' WHERE organization_id = $1`, [org.id]);

    const from = new Date('2024-01-01T00:00:00Z');
    const to = new Date('2024-02-01T00:00:00Z');
    expect(await refusal(backfillRuns.start(pool, { ...slug, from: new Date('2024-01-01T01:00:00Z') }))).toMatchObject({ field: 'from' });
    expect(await refusal(backfillRuns.start(pool, { ...slug, from: to, to: from }))).toMatchObject({ code: 'invalid_backfill_range', field: 'to' });
    expect(await refusal(backfillRuns.start(pool, { ...slug, slug: 'nope' }))).toMatchObject({ code: 'meter_not_found' });
    const run = await backfillRuns.start(pool, { ...slug, from, to });
    expect(run).toMatchObject({ state: 'queued', meterVersionId: meter.currentVersion.id, fromMs: from.getTime(), toMs: to.getTime(), eventsDone: 0 });
    expect(await backfillRuns.get(pool, { organizationId: org.id, runId: run.id })).toEqual(run);
    expect((await meters.get(pool, slug)).latestBackfill).toEqual(run);
    expect(await refusal(backfillRuns.get(pool, { organizationId: org.id, runId: '1 OR 1=1' }))).toMatchObject({ code: 'invalid_backfill_run_id', field: 'backfill_run_id' });
  });
});
