import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { organizations } from '../identity/organizations.repository';
import { throwawayPostgres, type ThrowawayPostgres } from '../testing/throwaway-database';
import { backfillQueue } from './backfill-queue.repository';
import { meters } from './meters.repository';

// A completed backfill run records one meter.backfill_completed event in the notification outbox,
// in the completing transaction; a refused completion records none.

let db: ThrowawayPostgres;
beforeAll(async () => {
  db = await throwawayPostgres();
});
afterAll(async () => db?.drop());

it('records meter.backfill_completed once, with the completion', async () => {
  const slug = `bf-${randomBytes(3).toString('hex')}`;
  const organizationId = (await organizations.create(db.pool, { name: slug, slug })).id;
  await meters.create(db.pool, { organizationId, slug: 'tokens', definition: { eventType: 'llm.completion', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [] } });
  const claimed = await backfillQueue.claim(db.pool, { workerId: 'w1' }, { claimTtlMs: 60_000, leaseGraceMs: 0, maxAttempts: 3 });
  expect(claimed).toBeDefined();
  const runId = claimed?.run.id ?? '';
  await backfillQueue.complete(db.pool, { runId, workerId: 'w1', eventsDone: 42 });
  // A repeated completion (a retried call) is refused and records nothing more.
  await expect(backfillQueue.complete(db.pool, { runId, workerId: 'w1', eventsDone: 42 })).rejects.toMatchObject({ code: 'backfill_not_claimed' });
  const { rows } = await db.pool.query('SELECT organization_id, type, dedupe_key, payload FROM notification_events WHERE organization_id = $1', [organizationId]);
  expect(rows).toEqual([
    {
      organization_id: organizationId,
      type: 'meter.backfill_completed',
      dedupe_key: `meter.backfill_completed:${runId}`,
      payload: { meter: { id: expect.any(String), slug: 'tokens', version: 1 }, run: { id: runId, from: '1970-01-01T00:00:00.000Z', to: expect.any(String), state: 'succeeded' } },
    },
  ]);
});

it('records meter.backfill_completed with state failed when a run fails', async () => {
  const slug = `bf-${randomBytes(3).toString('hex')}`;
  const organizationId = (await organizations.create(db.pool, { name: slug, slug })).id;
  await meters.create(db.pool, { organizationId, slug: 'calls', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
  const claimed = await backfillQueue.claim(db.pool, { workerId: 'w2' }, { claimTtlMs: 60_000, leaseGraceMs: 0, maxAttempts: 3 });
  const runId = claimed?.run.id ?? '';
  await backfillQueue.fail(db.pool, { runId, workerId: 'w2', error: 'ClickHouse refused the read' });
  const { rows } = await db.pool.query('SELECT type, dedupe_key, payload FROM notification_events WHERE organization_id = $1', [organizationId]);
  expect(rows).toEqual([
    {
      type: 'meter.backfill_completed',
      dedupe_key: `meter.backfill_completed:${runId}`,
      payload: { meter: { id: expect.any(String), slug: 'calls', version: 1 }, run: { id: runId, from: '1970-01-01T00:00:00.000Z', to: expect.any(String), state: 'failed' } },
    },
  ]);
});
