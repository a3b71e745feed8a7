import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, organizations } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { generateApiKey, type ApiKeyScope } from '@polaris/shared/auth';
import { createLogger } from '@polaris/shared/service';
import { postgresKeyAuthenticator } from './admin-keys';
import { startAdminPort } from './admin-port';
import { QUEUE_BOARD_PATH, startQueueBoard, type QueueBoard } from './queue-board';

// The local stack's Redis (`npx polaris stack up`); each run keeps its queues under its own prefix.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:56379';
const logger = createLogger('it-queue-board', 'silent');
const basic = (key: string) => `Basic ${Buffer.from(`admin:${key}`, 'utf8').toString('base64')}`;

interface QueuesAnswer {
  queues: Array<{ name: string; counts: Record<string, number>; jobs: Array<{ id: string; name: string; data: unknown }> }>;
}

describe('the queue board (bull-board at /admin/queues)', () => {
  let pg: ThrowawayPostgres;
  let queue: Queue;
  let board: QueueBoard;
  let base: string;
  const keys: Partial<Record<'admin' | 'usage' | 'revoked', string>> = {};
  const key = (which: keyof typeof keys): string => {
    const k = keys[which];
    if (!k) throw new Error(`no ${which} key`);
    return k;
  };
  let jobId: string;

  beforeAll(async () => {
    pg = await throwawayPostgres({ poolMax: 2 });
    const slug = `it-${randomUUID().slice(0, 8)}`;
    const org = await organizations.create(pg.pool, { name: slug, slug });
    const create = async (scopes: ApiKeyScope[]) => (await apiKeys.create(pg.pool, { organizationId: org.id, name: scopes.join(' '), scopes })).key;
    keys.admin = await create(['admin']);
    keys.usage = await create(['usage:read']);
    const revoked = await apiKeys.create(pg.pool, { organizationId: org.id, name: 'revoked', scopes: ['admin'] });
    await apiKeys.revoke(pg.pool, revoked.apiKey.id);
    keys.revoked = revoked.key;

    queue = new Queue('rating', { connection: { url: REDIS_URL }, prefix: `it-board-${randomUUID().slice(0, 8)}` });
    const job = await queue.add('rate-period', { subscriptionId: 'sub_it', periodStart: '2026-01-01T00:00:00.000Z' }, { delay: 3_600_000 });
    jobId = job.id ?? '';
    board = await startQueueBoard({ host: '127.0.0.1', port: 0, queues: [queue], authenticate: postgresKeyAuthenticator(pg.appPool), logger });
    base = `http://127.0.0.1:${board.port}${QUEUE_BOARD_PATH}`;
  });

  afterAll(async () => {
    await board?.stop();
    await queue?.obliterate({ force: true });
    await queue?.close();
    await pg?.drop();
  });

  it('asks for credentials (401 with a Basic challenge, so a browser prompts) when none are sent', async () => {
    for (const url of [base, `${base}/api/queues`]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(401);
      expect(res.headers.get('www-authenticate'), url).toMatch(/^Basic realm="polaris-admin"/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('missing_api_key');
    }
  });

  it('refuses an unknown, a malformed and a revoked key with 401 and the challenge', async () => {
    for (const bad of [generateApiKey().key, 'not-a-key', key('revoked')]) {
      const res = await fetch(`${base}/api/queues`, { headers: { authorization: basic(bad) } });
      expect(res.status, bad).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="polaris-admin"/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    }
  });

  it('refuses a valid key without the admin scope with 403', async () => {
    for (const headers of [{ authorization: basic(key('usage')) }, { authorization: `Bearer ${key('usage')}` }]) {
      const res = await fetch(base, { headers });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(await res.json()).toEqual({ error: { code: 'missing_scope', message: 'this API key lacks the "admin" scope' } });
    }
  });

  it('serves the board page to an admin key', async () => {
    const res = await fetch(base, { headers: { authorization: basic(key('admin')) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain('Polaris queues');
  });

  it('lists the rating queue and its job on the JSON API, with each way of presenting the key', async () => {
    const headerSets: Record<string, string>[] = [{ authorization: basic(key('admin')) }, { authorization: `Bearer ${key('admin')}` }, { 'x-api-key': key('admin') }];
    for (const headers of headerSets) {
      const res = await fetch(`${base}/api/queues?activeQueue=rating&status=delayed&page=1&jobsPerPage=10`, { headers });
      expect(res.status, JSON.stringify(Object.keys(headers))).toBe(200);
      const { queues } = (await res.json()) as QueuesAnswer;
      expect(queues.map((q) => q.name)).toEqual(['rating']);
      expect(queues[0]?.counts.delayed).toBe(1);
      expect(queues[0]?.jobs).toEqual([
        expect.objectContaining({ id: jobId, name: 'rate-period', data: { subscriptionId: 'sub_it', periodStart: '2026-01-01T00:00:00.000Z' } }),
      ]);
    }
  });

  it('lets an admin act on a queue from the board, and refuses the same action sent from another site', async () => {
    const pause = (origin: string) =>
      fetch(`${base}/api/queues/rating/pause`, { method: 'PUT', headers: { authorization: basic(key('admin')), origin } });
    const crossSite = await pause('https://evil.example');
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe('cross_site_request');
    expect(await queue.isPaused()).toBe(false);

    const sameSite = await pause(`http://127.0.0.1:${board.port}`);
    expect(sameSite.status).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    await queue.resume();
  });

  it('serves no board at all with ADMIN_PORT=0', async () => {
    expect(await startAdminPort({ config: { ADMIN_HOST: '127.0.0.1', ADMIN_PORT: 0 }, queues: [queue], db: pg.pool, logger })).toEqual([]);
  });

  it('answers 404 outside the board', async () => {
    const res = await fetch(`http://127.0.0.1:${board.port}/`, { headers: { authorization: basic(key('admin')) } });
    expect(res.status).toBe(404);
  });
});
