import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { meters, organizations } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `polaris customer|plan|subscription …` as an operator runs them, each in a process of its own,
// against a PostgreSQL database of its own.

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
let db: ThrowawayPostgres;

const polaris = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', main, ...args], { reject: false, env: { DATABASE_URL: db.url } });
const json = <T>(stdout: string): T => JSON.parse(stdout) as T;

/** Runs a command that must succeed, and returns its stdout. */
async function ok(...args: string[]): Promise<string> {
  const result = await polaris(...args);
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.exitCode, args.join(' ')).toBe(0);
  return result.stdout;
}

/** Runs a command that must be refused with a message (not a stack), and returns the message. */
async function refused(...args: string[]): Promise<string> {
  const result = await polaris(...args);
  expect(result.exitCode, args.join(' ')).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result.stderr.trim();
}

interface CustomerJson {
  id: string;
  externalId: string;
  currency: string;
  timeZone: string;
  subjects: string[];
  status: string;
}
interface PlanJson {
  key: string;
  versions: Array<{ version: number; status: string; currency: string; prices: Array<Record<string, unknown>> }>;
}
interface SubscriptionJson {
  id: string;
  customerExternalId: string;
  billingAnchor: string;
  startAt: string;
  phases: Array<{ planKey: string; planVersion: number; startsAt: string }>;
  currentPeriod: { start: string; end: string };
  cancelAt: string | null;
}

const API_PRICE = '{"key":"api","model":"PER_UNIT","meter_slug":"api_calls","unit_price":"0.002","free_quota":"1000"}';
const TIERED = '{"key":"tiered","model":"GRADUATED","meter_slug":"api_calls","tiers":[{"up_to":"1000","unit_price":"0.01"},{"unit_price":"0.005","flat_fee":"2"}]}';

beforeAll(async () => {
  db = await throwawayPostgres();
  const org = await organizations.create(db.pool, { name: 'Acme', slug: 'acme' });
  await organizations.create(db.pool, { name: 'Other', slug: 'other' });
  await meters.create(db.pool, { organizationId: org.id, slug: 'api_calls', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
});
afterAll(async () => db?.drop());

describe('polaris customer', () => {
  it('creates, shows, lists, updates, maps subjects and archives customers', async () => {
    const created = json<CustomerJson>(
      await ok('customer', 'create', 'cus_1', '--org', 'acme', '--name', 'Acme Corp', '--currency', 'USD', '--time-zone', 'Europe/Paris', '--subject', 'u2', '--subject', 'u1', '--json'),
    );
    expect(created).toMatchObject({ externalId: 'cus_1', currency: 'USD', timeZone: 'Europe/Paris', subjects: ['u1', 'u2'], status: 'active' });
    const text = await ok('customer', 'create', 'cus_2', '--org', 'acme', '--name', 'Beta', '--currency', 'EUR', '--email', 'b@beta.test');
    expect(text).toMatch(/^customer created\ncustomer cus_2 of acme: Beta \(active\)$/m);
    expect(text).toContain('time zone: UTC');

    const shown = await ok('customer', 'get', 'cus_1', '--org', 'acme');
    expect(shown).toContain('subjects:  u1, u2');
    const listed = await ok('customer', 'list', '--org', 'acme');
    expect(listed.split('\n').map((l) => l.split(/\s{2,}/)[0])).toEqual(['EXTERNAL ID', 'cus_1', 'cus_2']);

    expect(json<CustomerJson>(await ok('customer', 'update', 'cus_2', '--org', 'acme', '--currency', 'USD', '--json'))).toMatchObject({ currency: 'USD' });
    expect(await refused('customer', 'update', 'cus_2', '--org', 'acme')).toMatch(/nothing to change/);

    expect(await ok('customer', 'subjects', 'add', 'cus_2', '--org', 'acme', '--subject', 'b1', '--subject', 'b2')).toContain('subjects:  b1, b2');
    expect(await refused('customer', 'subjects', 'add', 'cus_2', '--org', 'acme', '--subject', 'b3', '--subject', 'u1')).toMatch(
      /subject "u1" already belongs to customer "cus_1".*\(--subject\)/,
    );
    expect(json<CustomerJson>(await ok('customer', 'get', 'cus_2', '--org', 'acme', '--json')).subjects).toEqual(['b1', 'b2']);
    expect(json<CustomerJson>(await ok('customer', 'subjects', 'remove', 'cus_2', '--org', 'acme', '--subject', 'b1', '--json')).subjects).toEqual(['b2']);

    expect(await ok('customer', 'archive', 'cus_2', '--org', 'acme')).toMatch(/^customer cus_2 of acme: Beta \(archived\)$/m);
    expect(json<CustomerJson[]>(await ok('customer', 'list', '--org', 'acme', '--json')).map((c) => c.externalId)).toEqual(['cus_1']);
    expect(json<CustomerJson[]>(await ok('customer', 'list', '--org', 'acme', '--all', '--json')).map((c) => c.externalId)).toEqual(['cus_1', 'cus_2']);
  });

  it('refuses bad input naming the flag, and unknown customers', async () => {
    expect(await refused('customer', 'create', 'x', '--org', 'acme', '--name', 'X', '--currency', 'usd')).toMatch(/currency "usd" is not an ISO 4217 currency code.*\(--currency\)/);
    expect(await refused('customer', 'create', 'x', '--org', 'acme', '--name', 'X', '--currency', 'USD', '--time-zone', 'Nowhere/City')).toMatch(/\(--time-zone\)$/);
    expect(await refused('customer', 'create', 'cus_1', '--org', 'acme', '--name', 'X', '--currency', 'USD')).toMatch(/external id "cus_1" already exists/);
    expect(await refused('customer', 'get', 'nobody', '--org', 'acme')).toBe('no customer with external id "nobody" in this organization');
    expect(await refused('customer', 'get', 'cus_1', '--org', 'other')).toBe('no customer with external id "cus_1" in this organization');
    expect(await refused('customer', 'get', 'cus_1', '--org', 'nobody')).toMatch(/no organization with slug "nobody"/);
  });
});

describe('polaris plan', () => {
  it('creates a plan from inline JSON or a file, publishes, versions and archives it', async () => {
    const created = json<PlanJson>(await ok('plan', 'create', 'pro', '--org', 'acme', '--name', 'Pro', '--currency', 'USD', '--prices', `[${API_PRICE}]`, '--json'));
    expect(created.versions).toEqual([
      expect.objectContaining({
        version: 1,
        status: 'draft',
        prices: [{ key: 'api', name: 'api', model: 'PER_UNIT', meter_slug: 'api_calls', amount: null, unit_price: '0.002', tiers: null, package_size: null, package_price: null, free_quota: '1000' }],
      }),
    ]);
    const file = join(tmpdir(), `prices-${process.pid}.json`);
    // JSON numbers are taken as their exact text, never through a float.
    await writeFile(file, `[{"key":"base","model":"FLAT","amount":49.90}, ${TIERED}]`);
    const published = await ok('plan', 'create', 'team', '--org', 'acme', '--name', 'Team', '--currency', 'USD', '--prices', `@${file}`, '--publish');
    expect(published).toMatch(/^plan team of acme: Team \(active\)$/m);
    expect(published).toMatch(/version 1 \(published .*, USD; id /);
    expect(published).toMatch(/base\s+FLAT\s+49\.9 USD per period/);
    expect(published).toMatch(/tiered\s+GRADUATED\s+api_calls in USD: \(0, 1000\] 0\.01; \(1000, ∞\) 0\.005 \+ 2/);

    expect(await ok('plan', 'version', 'create', 'pro', '--org', 'acme', '--prices', '[]')).toMatch(/^plan pro: version 2 created$/m);
    expect(await ok('plan', 'version', 'update', 'pro', '2', '--org', 'acme', '--prices', `[${API_PRICE}]`, '--currency', 'EUR')).toMatch(/version 2 \(draft, EUR/);
    expect(await ok('plan', 'version', 'publish', 'pro', '1', '--org', 'acme')).toMatch(/^plan pro: version 1 published$/m);
    expect(await refused('plan', 'version', 'update', 'pro', '1', '--org', 'acme', '--prices', '[]')).toMatch(/version 1 of plan "pro" is published and never changes/);
    const listed = await ok('plan', 'list', '--org', 'acme');
    expect(listed).toMatch(/^pro\s+Pro\s+active\s+EUR\s+v2 draft, v1 published$/m);
    expect(await ok('plan', 'get', 'pro', '--org', 'acme')).toMatch(/version 2 \(draft, EUR.*\n.*KEY\s+MODEL\s+PRICE\n\s+api\s+PER_UNIT\s+0\.002 EUR per unit of api_calls, first 1000 free/);

    expect(json<PlanJson>(await ok('plan', 'archive', 'team', '--org', 'acme', '--json'))).toMatchObject({ key: 'team' });
    expect(json<PlanJson[]>(await ok('plan', 'list', '--org', 'acme', '--json')).map((p) => p.key)).toEqual(['pro']);
  });

  it('refuses bad JSON and bad prices naming where', async () => {
    const create = (prices: string) => refused('plan', 'create', 'bad', '--org', 'acme', '--name', 'Bad', '--currency', 'USD', '--prices', prices);
    expect(await create('[{"key":')).toMatch(/^--prices is not valid JSON: /);
    expect(await create('{"key":"base"}')).toMatch(/^--prices must be a JSON array of prices/);
    expect(await create('@/nonexistent/prices.json')).toMatch(/^--prices: cannot read \/nonexistent\/prices.json/);
    expect(await create('[{"key":"base","model":"FLAT","amount":"-1"}]')).toMatch(/prices\[0\]\.amount must not be negative.*\(--prices\)/);
    const overlap = '[{"key":"t","model":"VOLUME","meter_slug":"api_calls","tiers":[{"up_to":"10","unit_price":"1"},{"from":"5","unit_price":"1"}]}]';
    expect(await create(overlap)).toMatch(/prices\[0\]\.tiers\[1\]\.from must be 10/);
    expect(await create('[{"key":"t","model":"PER_UNIT","meter_slug":"nope","unit_price":"1"}]')).toMatch(/prices\[0\]\.meter_slug: no active meter "nope"/);
    expect(await create('[{"key":"t","model":"FLAT","amount":"1","free_qouta":"1"}]')).toMatch(/prices\[0\]\.free_qouta is not a price field/);
    expect(await refused('plan', 'create', 'Bad-Key', '--org', 'acme', '--name', 'B', '--currency', 'USD', '--prices', '[]')).toMatch(/\(the <key> argument\)$/);
    expect(await refused('plan', 'version', 'publish', 'pro', 'two', '--org', 'acme')).toMatch(/the <version> argument takes a version number/);
    const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM plans WHERE key IN ('bad', 'Bad-Key')`);
    expect(rows[0]?.n).toBe('0');
  });
});

describe('polaris subscription', () => {
  it('subscribes, shows, lists, changes plan at the period end and cancels', async () => {
    const created = json<SubscriptionJson>(
      await ok('subscription', 'create', '--org', 'acme', '--customer', 'cus_1', '--plan', 'pro', '--start', '2026-01-10T08:30:45Z', '--anchor', 'anniversary', '--json'),
    );
    expect(created).toMatchObject({
      customerExternalId: 'cus_1',
      billingAnchor: 'anniversary',
      startAt: '2026-01-10T08:30:00.000Z',
      phases: [{ planKey: 'pro', planVersion: 1, startsAt: '2026-01-10T08:30:00.000Z' }],
      cancelAt: null,
    });
    const shown = await ok('subscription', 'get', created.id, '--org', 'acme');
    expect(shown).toMatch(new RegExp(`^subscription ${created.id} of acme: customer cus_1 \\(active\\)$`, 'm'));
    expect(shown).toContain('monthly, anniversary anchor, in Europe/Paris, from 2026-01-10T08:30:00.000Z');
    expect(await ok('subscription', 'list', '--org', 'acme', '--customer', 'cus_1')).toMatch(new RegExp(`^${created.id}\\s+cus_1\\s+active\\s+pro v1\\s+`, 'm'));

    // Version 2 is a draft in EUR: refused as a draft first.
    expect(await refused('subscription', 'change-plan', created.id, '--org', 'acme', '--plan', 'pro', '--plan-version', '2')).toMatch(/version 2 of plan "pro" is a draft/);
    await ok('plan', 'version', 'publish', 'pro', '2', '--org', 'acme');
    expect(await refused('subscription', 'change-plan', created.id, '--org', 'acme', '--plan', 'pro', '--plan-version', '2')).toMatch(/priced in EUR, customer "cus_1" is billed in USD/);
    expect(await refused('subscription', 'change-plan', created.id, '--org', 'acme', '--plan', 'pro', '--plan-version', '1', '--effective-at', '2026-01-20T00:00:00Z')).toMatch(
      /a plan change takes effect at the next period boundary, .*proration is not supported yet/,
    );
    await ok('plan', 'create', 'max', '--org', 'acme', '--name', 'Max', '--currency', 'USD', '--prices', '[{"key":"base","model":"FLAT","amount":"99"}]', '--publish');
    const changed = json<SubscriptionJson>(await ok('subscription', 'change-plan', created.id, '--org', 'acme', '--plan', 'max', '--json'));
    expect(changed.phases.map((p) => [p.planKey, p.startsAt])).toEqual([
      ['pro', created.startAt],
      ['max', created.currentPeriod.end],
    ]);

    const canceled = await ok('subscription', 'cancel', created.id, '--org', 'acme');
    expect(canceled).toMatch(new RegExp(`customer cus_1 \\(active, cancels at ${created.currentPeriod.end.replace(/\./g, '\\.')}\\)`));
    expect(json<SubscriptionJson>(await ok('subscription', 'cancel', created.id, '--org', 'acme', '--json')).cancelAt).toBe(created.currentPeriod.end);
    expect(await refused('subscription', 'change-plan', created.id, '--org', 'acme', '--plan', 'max')).toMatch(/is canceled at .* and takes no more changes/);
  });

  it('refuses bad flags and what the rules forbid, naming why', async () => {
    await ok('customer', 'create', 'cus_3', '--org', 'acme', '--name', 'C3', '--currency', 'JPY');
    const create = (...flags: string[]) => refused('subscription', 'create', '--org', 'acme', '--customer', 'cus_3', '--plan', 'max', ...flags);
    expect(await create('--anchor', 'weekly')).toMatch(/--anchor takes calendar or anniversary/);
    expect(await create('--start', 'tomorrow')).toMatch(/--start takes an ISO 8601 time/);
    expect(await create('--plan-version', '-1')).toMatch(/--plan-version takes a version number/);
    expect(await create()).toMatch(/priced in USD, customer "cus_3" is billed in JPY/);
    expect(await refused('subscription', 'create', '--org', 'acme', '--customer', 'cus_1', '--plan', 'max')).toMatch(/customer "cus_1" already has an active subscription/);
    expect(await refused('subscription', 'get', '00000000-0000-4000-8000-000000000000', '--org', 'acme')).toMatch(/no subscription with id/);
    const [mine] = json<SubscriptionJson[]>(await ok('subscription', 'list', '--org', 'acme', '--json'));
    expect(await refused('subscription', 'get', mine?.id ?? '', '--org', 'other')).toMatch(/no subscription with id/);
    expect(await refused('customer', 'update', 'cus_1', '--org', 'acme', '--currency', 'EUR')).toMatch(/cannot change: it has a subscription/);
  });
});
