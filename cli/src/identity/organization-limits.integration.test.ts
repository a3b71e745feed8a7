import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { organizationRateLimits } from '@polaris/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../config';
import { migrateAll } from '../migrate/migrate';
import { polaris } from '../test-support/operator-cli';
import { createOrganization } from './organizations';

const db = new pg.Client({ connectionString: loadOperatorConfig().postgres.url });
const slug = `test-${randomBytes(4).toString('hex')}`;
let orgId: string;

beforeAll(async () => {
  await migrateAll(loadOperatorConfig(), () => undefined);
  await db.connect();
  orgId = (await createOrganization(db, { name: slug, slug })).id;
});

afterAll(async () => {
  await db.query('DELETE FROM organizations WHERE slug = $1', [slug]);
  await db.end();
});

describe('polaris org limits', () => {
  it('shows no limit, sets one (by slug and by id), shows it, and clears it', async () => {
    const none = await polaris('org', 'limits', slug);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toContain("no limit of its own; the collectors' default applies");

    const set = await polaris('org', 'limits', slug, '--events-per-second', '250', '--burst', '1000');
    expect(set.exitCode).toBe(0);
    expect(set.stdout).toContain('250 events per second, bursts of up to 1000 in one second');
    expect(set.stdout).toContain('API_KEY_CACHE_TTL_MS');
    expect(await organizationRateLimits.find(db, orgId)).toMatchObject({ eventsPerSecond: 250, burst: 1_000 });

    const byId = await polaris('org', 'limits', orgId, '--events-per-second', '40', '--json');
    expect(byId.exitCode).toBe(0);
    expect(JSON.parse(byId.stdout)).toEqual({ orgId, slug, limit: { eventsPerSecond: 40, burst: 40, updatedAt: expect.any(String) } });

    const shown = await polaris('org', 'limits', slug, '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ limit: { eventsPerSecond: 40, burst: 40 } });

    const cleared = await polaris('org', 'limits', slug, '--clear');
    expect(cleared.exitCode).toBe(0);
    expect(cleared.stdout).toContain('limit cleared');
    expect(JSON.parse((await polaris('org', 'limits', slug, '--json')).stdout)).toMatchObject({ limit: null });
  });

  it('refuses a burst below the rate and an unknown organization, naming the flag or the org, and changes nothing', async () => {
    const low = await polaris('org', 'limits', slug, '--events-per-second', '100', '--burst', '10');
    expect(low.exitCode).not.toBe(0);
    expect(low.stderr).toContain('(--burst)');
    expect(await organizationRateLimits.find(db, orgId)).toBeUndefined();

    const unknown = await polaris('org', 'limits', `no-such-${slug}`, '--events-per-second', '5');
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toContain(`no organization with slug "no-such-${slug}"`);
  });
});
