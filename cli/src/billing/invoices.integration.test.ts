import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { billingCycle, customers, invoices, organizations, plans, subscriptions, type InvoiceLine } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import { addMoney, linesHash } from '@polaris/shared/billing';
import { eventually } from '@polaris/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvoiceView } from './invoice-view';

// `polaris invoice …` as an operator runs it, each command in a process of its own, against a
// PostgreSQL database of its own; recompute, finalize and upcoming through a real rating-worker
// process (gRPC only: RATING_ENABLED=false; the plan is flat, so no usage is read).

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const ratingWorker = fileURLToPath(new URL('../../../rating-worker/src/main.ts', import.meta.url));
const secret = randomBytes(48).toString('base64');
let db: ThrowawayPostgres;
let worker: ResultPromise | undefined;
let grpcAddr = '';
let draftId = '';
let finalizedId = '';

const polaris = (env: Record<string, string>, ...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', main, ...args], { reject: false, env: { DATABASE_URL: db.url, ...env } });
const withRatingWorker = () => ({ RATING_WORKER_GRPC_ADDR: grpcAddr, INTERNAL_AUTH_SECRET: secret });

async function ok(...args: string[]): Promise<string> {
  const result = await polaris(withRatingWorker(), ...args);
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.exitCode, args.join(' ')).toBe(0);
  return result.stdout;
}

async function refused(env: Record<string, string>, ...args: string[]): Promise<string> {
  const result = await polaris(env, ...args);
  expect(result.exitCode, args.join(' ')).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result.stderr.trim();
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

beforeAll(async () => {
  db = await throwawayPostgres();
  const org = await organizations.create(db.pool, { name: 'Acme', slug: 'acme' });
  await organizations.create(db.pool, { name: 'Other', slug: 'other' });
  const customer = await customers.create(db.pool, { organizationId: org.id, externalId: 'cus_1', name: 'Acme Corp', currency: 'USD' });
  await plans.create(db.pool, { organizationId: org.id, key: 'base', currency: 'USD', prices: [{ key: 'platform', name: 'Platform', model: 'FLAT', amount: '49.5' }] });
  await plans.publishVersion(db.pool, { organizationId: org.id, planKey: 'base', version: 1 });
  const sub = await subscriptions.create(db.pool, { organizationId: org.id, customer: { customerId: customer.id }, planKey: 'base', startAt: new Date('2026-01-01T00:00:00Z') });

  // Two periods opened as the scheduler opens them; January computed and finalized, February a draft.
  const settings = { organizationId: org.id, subscriptionId: sub.id, settleMs: 0, graceMs: 3_600_000, actor: 'scheduler' };
  const jan = await billingCycle.openPeriod(db.pool, { ...settings, periodStart: new Date('2026-01-01T00:00:00Z') });
  const feb = await billingCycle.openPeriod(db.pool, { ...settings, periodStart: new Date('2026-02-01T00:00:00Z') });
  finalizedId = jan?.invoiceId ?? '';
  draftId = feb?.invoiceId ?? '';
  const lines: InvoiceLine[] = [
    {
      lineKey: 'platform', position: 0, kind: 'flat', description: 'Platform', priceKey: 'platform', usagePeriodStart: new Date('2026-01-01T00:00:00Z'),
      usagePeriodEnd: new Date('2026-02-01T00:00:00Z'), quantity: '1', billableQuantity: '1', tiers: [], amount: '49.50',
    },
  ];
  const total = addMoney(['49.50'], 2);
  const computation = { lines, subtotal: total, total, linesHash: linesHash({ currency: 'USD', subtotal: total, total, lines }), usageAsOf: new Date() };
  await invoices.claim(db.pool, { organizationId: org.id, invoiceId: finalizedId, claimer: 'it', ttlMs: 60_000 });
  const { basis } = await invoices.billedForPeriod(db.pool, { organizationId: org.id, subscriptionId: sub.id, before: new Date(0), since: new Date(0) });
  await invoices.finalize(db.pool, { organizationId: org.id, invoiceId: finalizedId, claimer: 'it', actor: 'scheduler', computation, basis });

  const port = await freePort();
  grpcAddr = `127.0.0.1:${port}`;
  worker = execa(process.execPath, ['--import', 'tsx', ratingWorker], {
    reject: false,
    env: {
      DATABASE_URL: db.url, GRPC_PORT: String(port), OPS_PORT: '0', ADMIN_PORT: '0', RATING_ENABLED: 'false', INTERNAL_AUTH_SECRET: secret, LOG_LEVEL: 'warn',
    },
  });
  await eventually(async () => ((await polaris(withRatingWorker(), 'invoice', 'upcoming', 'cus_1', '--org', 'acme')).exitCode === 0 ? true : undefined), 'the rating-worker answers', 60_000, 500);
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  await worker;
  await db?.drop();
});

describe('polaris invoice', () => {
  it('lists and shows invoices: lines, amounts and totals, history', async () => {
    const listed = await ok('invoice', 'list', '--org', 'acme');
    expect(listed.split('\n').map((l) => l.split(/\s{2,}/).slice(1, 3))).toEqual([
      ['NUMBER', 'STATUS'],
      ['-', 'draft'],
      ['INV-000001', 'finalized'],
    ]);
    const all = JSON.parse(await ok('invoice', 'list', '--org', 'acme', '--status', 'finalized', '--json')) as InvoiceView[];
    expect(all.map((i) => [i.id, i.number, i.total])).toEqual([[finalizedId, 'INV-000001', '49.50']]);

    const shown = await ok('invoice', 'get', finalizedId, '--org', 'acme');
    expect(shown).toMatch(/^invoice INV-000001 \(finalized\) of acme$/m);
    expect(shown).toMatch(/LINE\s+QUANTITY\s+BILLABLE\s+UNIT PRICE\s+AMOUNT \(USD\)/);
    expect(shown).toMatch(/Platform\s+1\s+1\s+49\.50/);
    expect(shown).toMatch(/total\s+49\.50/);
    expect(shown).toMatch(/finalized\s+draft → finalized\s+by scheduler/);
    expect(JSON.parse(await ok('invoice', 'get', finalizedId, '--org', 'acme', '--json'))).toMatchObject({ number: 'INV-000001', lines: [{ lineKey: 'platform', amount: '49.50' }] });
  });

  it('recomputes and estimates through the rating-worker, the estimate clearly marked', async () => {
    const recomputed = await ok('invoice', 'recompute', draftId, '--org', 'acme');
    expect(recomputed).toMatch(/^invoice recomputed\ninvoice .* \(draft\) of acme/);
    expect(recomputed).toMatch(/computed\s+draft → draft\s+by operator/);
    const estimate = await ok('invoice', 'upcoming', 'cus_1', '--org', 'acme');
    expect(estimate.split('\n')[0]).toMatch(/^ESTIMATE/);
    expect(estimate).toMatch(/total\s+49\.50/);
    expect(JSON.parse(await ok('invoice', 'upcoming', 'cus_1', '--org', 'acme', '--json'))).toMatchObject({ id: null, status: 'estimate', estimate: true, total: '49.50' });
  });

  it('pays, voids and finalizes as the lifecycle allows, and says why not otherwise', async () => {
    expect(await refused(withRatingWorker(), 'invoice', 'pay', draftId, '--org', 'acme')).toMatch(/is draft: only a finalized invoice can become paid/);
    expect(await ok('invoice', 'pay', finalizedId, '--org', 'acme')).toMatch(/^invoice paid\ninvoice INV-000001 \(paid\)/);
    expect(await refused(withRatingWorker(), 'invoice', 'void', finalizedId, '--org', 'acme')).toMatch(/is paid: only a draft or finalized invoice can become void/);
    expect(await ok('invoice', 'finalize', draftId, '--org', 'acme')).toMatch(/^invoice finalized\ninvoice INV-000002 \(finalized\)/);
    expect(await refused(withRatingWorker(), 'invoice', 'finalize', draftId, '--org', 'acme')).toMatch(/is finalized: only a draft invoice can become finalized/);
    expect(await refused(withRatingWorker(), 'invoice', 'get', finalizedId, '--org', 'other')).toMatch(/^no invoice with id ".*" in this organization$/);
    expect(await refused(withRatingWorker(), 'invoice', 'list', '--org', 'acme', '--status', 'open')).toMatch(/status must be one of .*\(--status\)/);
  });

  it('names what is missing to reach the rating-worker, and a wrong secret', async () => {
    expect(await refused({}, 'invoice', 'upcoming', 'cus_1', '--org', 'acme')).toBe(
      "`polaris invoice upcoming` asks the rating-worker, and needs in the environment: RATING_WORKER_GRPC_ADDR (its gRPC address, e.g. rating-worker:50053) and INTERNAL_AUTH_SECRET (the services' shared secret)",
    );
    expect(await refused({ ...withRatingWorker(), INTERNAL_AUTH_SECRET: randomBytes(48).toString('base64') }, 'invoice', 'recompute', draftId, '--org', 'acme')).toMatch(
      /refused the call \(invalid_internal_token\): INTERNAL_AUTH_SECRET must be the one the services run with/,
    );
  });
});
