import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { backfillQueue, organizations, type Organization } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { eventually } from '@polaris/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `polaris meter …` as an operator runs it, in a process of its own, against a PostgreSQL
// database of its own (the backfill queue is global: this test plays the sink-worker that works it).

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
let db: ThrowawayPostgres;
let org: Organization;

const polaris = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', main, ...args], { reject: false, env: { DATABASE_URL: db.url } });
const json = <T>(stdout: string): T => JSON.parse(stdout) as T;
const settings = { claimTtlMs: 60_000, leaseGraceMs: 10_000, maxAttempts: 3 };

interface MeterJson {
  slug: string;
  name: string;
  status: string;
  currentVersion: { version: number; state: string; definition: Record<string, unknown> };
  pendingVersion: { version: number } | null;
  latestBackfill: { backfillRunId: string; state: string; from: string | null } | null;
}

beforeAll(async () => {
  db = await throwawayPostgres();
  org = await organizations.create(db.pool, { name: 'Acme', slug: 'acme' });
});
afterAll(async () => db?.drop());

/** Claims and completes whatever run is queued, as a sink-worker would. */
async function workTheQueue(events: number): Promise<void> {
  const claimed = await eventually(async () => backfillQueue.claim(db.pool, { workerId: 'it-worker' }, settings), 'a queued backfill run', 20_000, 50);
  await backfillQueue.complete(db.pool, { runId: claimed.run.id, workerId: 'it-worker', eventsDone: events });
}

describe('polaris meter', () => {
  it('creates a meter of each aggregation, shows and lists them', async () => {
    const created = await polaris(
      'meter', 'create', 'input_tokens', '--org', 'acme', '--event-type', 'llm.completion', '--aggregation', 'sum',
      '--value-path', '$.usage.input_tokens', '--dimension', 'model=$.model', '--dimension', 'region=$["geo"].region', '--json',
    );
    expect(created.stderr).toBe('');
    expect(created.exitCode).toBe(0);
    expect(json<MeterJson>(created.stdout)).toMatchObject({
      slug: 'input_tokens',
      name: 'input_tokens',
      status: 'active',
      currentVersion: {
        version: 1,
        state: 'backfilling',
        definition: { aggregation: 'SUM', valuePath: '$.usage.input_tokens', dimensions: [{ name: 'model', path: '$.model' }, { name: 'region', path: '$.geo.region' }] },
      },
      latestBackfill: { state: 'queued', from: null },
    });
    const users = await polaris('meter', 'create', 'active_users', '--org', org.id, '--event-type', 'api.call', '--aggregation', 'UNIQUE_COUNT', '--unique-path', '$.user_id', '--name', 'Active users', '--backfill-from', '2024-05-01');
    expect(users.exitCode).toBe(0);
    expect(users.stdout).toContain('meter created');
    expect(users.stdout).toContain('UNIQUE_COUNT of $.user_id of events of type api.call');
    expect(users.stdout).toContain('(2024-05-01 .. now)');

    const shown = await polaris('meter', 'get', 'input_tokens', '--org', 'acme');
    expect(shown.stdout).toMatch(/^meter input_tokens of acme: input_tokens \(active\)$/m);
    expect(shown.stdout).toContain('dimensions: model=$.model, region=$.geo.region');
    const listed = await polaris('meter', 'list', '--org', 'acme');
    expect(listed.stdout.split('\n').map((l) => l.split(/\s{2,}/)[0])).toEqual(['SLUG', 'active_users', 'input_tokens']);
  });

  it('refuses bad input with the field and the flag to fix, and creates nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--aggregation', 'median', '--value-path', '$.x'], /aggregation must be one of SUM, COUNT, .* \(--aggregation\)/],
      [['--aggregation', 'sum', '--value-path', 'x.y'], /value_path must start with \$.*\(--value-path\)/],
      [['--aggregation', 'sum'], /value_path is required for SUM.*\(--value-path\)/],
      [['--aggregation', 'count', '--dimension', 'model'], /--dimension takes name=path/],
      [['--aggregation', 'count', '--dimension', 'Model=$.m'], /dimensions\[0\]\.name must be .*\(--dimension\)/],
      [['--aggregation', 'count', '--backfill-from', '2024-05-01T10:00:00Z'], /backfill_from must be a whole UTC day .*\(--backfill-from\)/],
    ];
    for (const [flags, message] of cases) {
      const result = await polaris('meter', 'create', 'refused', '--org', 'acme', '--event-type', 'e', ...flags);
      expect(result.exitCode, flags.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
    const dupe = await polaris('meter', 'create', 'input_tokens', '--org', 'acme', '--event-type', 'e', '--aggregation', 'count');
    expect(dupe.stderr).toMatch(/a meter with slug "input_tokens" already exists/);
    const badSlug = await polaris('meter', 'create', 'Bad-Slug', '--org', 'acme', '--event-type', 'e', '--aggregation', 'count');
    expect(badSlug.stderr).toMatch(/slug must be .*\(the <slug> argument\)/);
    const noOrg = await polaris('meter', 'create', 'x', '--org', 'nobody', '--event-type', 'e', '--aggregation', 'count');
    expect(noOrg.stderr).toMatch(/no organization with slug "nobody"/);
    const missing = await polaris('meter', 'get', 'nope', '--org', 'acme');
    expect([missing.exitCode, missing.stderr.trim()]).toEqual([1, 'no meter with slug "nope" in this organization']);
    const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM meters WHERE slug IN ('refused', 'x')`);
    expect(rows[0]?.n).toBe('0');
  });

  it('updates in place, makes a new version for a new definition, and archives', async () => {
    await db.pool.query(`UPDATE meter_backfill_runs SET state = 'failed' WHERE state IN ('queued', 'running')`);
    await polaris('meter', 'create', 'calls', '--org', 'acme', '--event-type', 'api.call', '--aggregation', 'sum', '--value-path', '$.n');
    await workTheQueue(0);

    const renamed = await polaris('meter', 'update', 'calls', '--org', 'acme', '--name', 'API calls', '--json');
    expect(json<MeterJson>(renamed.stdout)).toMatchObject({ name: 'API calls', currentVersion: { version: 1, state: 'ready' }, pendingVersion: null });
    const nothing = await polaris('meter', 'update', 'calls', '--org', 'acme');
    expect(nothing.stderr).toMatch(/nothing to change/);

    const counted = await polaris('meter', 'update', 'calls', '--org', 'acme', '--aggregation', 'COUNT');
    expect(counted.exitCode).toBe(0);
    expect(counted.stdout).toMatch(/^meter updated: a new version is backfilling$/m);
    expect(counted.stdout).toMatch(/answers from version 1 \(ready/);
    expect(counted.stdout).toMatch(/backfilling version 2 \(backfilling/);
    expect(counted.stdout).toContain('counts:     COUNT of events of type api.call');

    const archived = await polaris('meter', 'archive', 'calls', '--org', 'acme', '--json');
    expect(json<MeterJson>(archived.stdout)).toMatchObject({ status: 'archived', latestBackfill: { state: 'failed' } });
    const active = json<MeterJson[]>((await polaris('meter', 'list', '--org', 'acme', '--json')).stdout).map((m) => m.slug);
    const all = json<MeterJson[]>((await polaris('meter', 'list', '--org', 'acme', '--all', '--json')).stdout).map((m) => m.slug);
    expect(active).not.toContain('calls');
    expect(all).toContain('calls');
    const refused = await polaris('meter', 'backfill', 'calls', '--org', 'acme');
    expect(refused.stderr).toMatch(/meter "calls" is archived/);
  });

  it('backfills a range and waits for it, showing its progress', async () => {
    await db.pool.query(`UPDATE meter_backfill_runs SET state = 'failed' WHERE state IN ('queued', 'running')`);
    await polaris('meter', 'create', 'spend', '--org', 'acme', '--event-type', 'llm.completion', '--aggregation', 'SUM', '--value-path', '$.cost');
    await workTheQueue(3);

    const badDay = await polaris('meter', 'backfill', 'spend', '--org', 'acme', '--from', '2024-01-01T06:00:00Z');
    expect(badDay.stderr).toMatch(/from must be a whole UTC day .*\(--from\)/);

    const waiting = polaris('meter', 'backfill', 'spend', '--org', 'acme', '--from', '2024-01-01', '--to', '2024-02-01', '--wait', '--json');
    let progress = '';
    waiting.stderr?.on('data', (chunk: Buffer) => (progress += chunk.toString()));
    const claimed = await eventually(async () => backfillQueue.claim(db.pool, { workerId: 'it-worker' }, settings), 'the CLI to queue its run', 20_000, 50);
    expect(claimed.run).toMatchObject({ fromMs: Date.UTC(2024, 0, 1), toMs: Date.UTC(2024, 1, 1) });
    await backfillQueue.reportProgress(db.pool, { runId: claimed.run.id, workerId: 'it-worker', eventsDone: 5, eventsTotal: 10 }, settings);
    // The CLI polls every second: let it show the half-way point before the run completes.
    await eventually(async () => (progress.includes('5/10 events') ? true : undefined), 'the CLI to show the progress', 20_000, 50);
    await backfillQueue.complete(db.pool, { runId: claimed.run.id, workerId: 'it-worker', eventsDone: 10 });

    const result = await waiting;
    expect(result.exitCode).toBe(0);
    expect(json(result.stdout)).toMatchObject({ backfillRunId: claimed.run.id, state: 'completed', eventsDone: 10, eventsTotal: 10, from: '2024-01-01T00:00:00.000Z' });
    expect(result.stderr).toContain(`run ${claimed.run.id} running 5/10 events (50%+)`);

    const shown = json<{ currentVersion: { segments: Array<{ backfillRunId: string; from: string; to: string | null }> } }>(
      (await polaris('meter', 'get', 'spend', '--org', 'acme', '--json')).stdout,
    );
    expect(shown.currentVersion.segments.map((s) => [s.from.slice(0, 10), s.to?.slice(0, 10) ?? null])).toEqual([
      ['1970-01-01', '2024-01-01'],
      ['2024-01-01', '2024-02-01'],
      ['2024-02-01', null],
    ]);
  });

  it('exits 1 with the reason when the awaited run fails', async () => {
    const waiting = polaris('meter', 'backfill', 'spend', '--org', 'acme', '--wait');
    const claimed = await eventually(async () => backfillQueue.claim(db.pool, { workerId: 'it-worker' }, settings), 'the CLI to queue its run', 20_000, 50);
    await backfillQueue.fail(db.pool, { runId: claimed.run.id, workerId: 'it-worker', error: 'ClickHouse is down' });
    const result = await waiting;
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^backfill queued: run \d+ of version 1 queued \(whole history\)$/m);
    expect(result.stderr).toContain(`backfill run ${claimed.run.id} (whole history) failed: ClickHouse is down`);
  });
});
