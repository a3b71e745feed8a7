import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Price } from '@polaris/shared/billing';
import { APP_ROLE } from './app-role';
import { billingCycle } from './billing/billing-cycle.repository';
import { computationOf, seedSubscription } from './billing/invoices.fixtures';
import { invoices } from './billing/invoices.repository';
import { apiKeys } from './identity/api-keys.repository';
import { organizationRateLimits } from './identity/organization-rate-limits.repository';
import { organizations } from './identity/organizations.repository';
import { backfillQueue } from './meters/backfill-queue.repository';
import { meterCatalog } from './meters/meter-catalog.repository';
import { meters } from './meters/meters.repository';
import type { Pool, Queryable } from './pool';
import { withOrg } from './tenant-scope';
import { throwawayPostgres, type ThrowawayPostgres } from './testing/throwaway-database';

// Tenant isolation, wall 3 (migration 006): connected as the services' role, PostgreSQL itself
// shows and accepts only the rows of the organization a transaction acts for (withOrg). Two
// organizations get rows in every tenant table; the app role then looks at every table that has
// an organization column, found in information_schema, so a table added later is checked too.

let db: ThrowawayPostgres;
let owner: Pool;
let app: Pool;

/** Tables that hold no tenant's rows: no policy, on purpose. Anything else must have one. */
const GLOBAL_TABLES = ['meter_catalog_revision', 'schema_migrations', 'sink_catalog_leases'];

/** The tables seeded below for both organizations: each must show rows to the owner. */
const SEEDED = [
  'organizations', 'api_keys', 'organization_rate_limits', 'meters', 'meter_versions', 'meter_backfill_runs',
  'customers', 'customer_subjects', 'plans', 'plan_versions', 'subscriptions', 'subscription_phases',
  'invoices', 'invoice_lines', 'invoice_events', 'invoice_number_sequences',
];

const PRICES: Price[] = [{ key: 'platform', name: 'Platform', model: 'FLAT', amount: '49', freeQuota: '0' }];
const JAN = new Date('2026-01-01T00:00:00Z');
const FEB = new Date('2026-02-01T00:00:00Z');

interface Tenant {
  id: string;
  customerId: string;
}

/** An organization with a row in every tenant table, written as the services and the CLI write them. */
async function seedTenant(): Promise<Tenant> {
  const org = await organizations.create(owner, { name: 'RLS', slug: `rls-${randomBytes(4).toString('hex')}` });
  await apiKeys.create(owner, { organizationId: org.id, name: 'rls', scopes: ['usage:read'] });
  await organizationRateLimits.set(owner, org.id, { eventsPerSecond: 10, burst: 20 });
  await meters.create(owner, { organizationId: org.id, slug: 'api_calls', definition: { eventType: 'api.call', aggregation: 'COUNT', dimensions: [] } });
  const seeded = await seedSubscription(owner, { organizationId: org.id, prices: PRICES, startAt: JAN, subjects: [`s-${org.id}`] });
  const opened = await billingCycle.openPeriod(owner, { organizationId: org.id, subscriptionId: seeded.subscriptionId, periodStart: JAN, settleMs: 0, graceMs: 0, actor: 'scheduler' });
  if (!opened) throw new Error('the period did not open');
  const claimer = `rls-${org.id}`;
  await invoices.claim(owner, { organizationId: org.id, invoiceId: opened.invoiceId, claimer, ttlMs: 60_000 });
  const computation = computationOf([
    { lineKey: 'platform', kind: 'flat', description: 'Platform', priceKey: 'platform', usagePeriodStart: JAN, usagePeriodEnd: FEB, quantity: '1', amount: '49.00' },
  ]);
  const basis = (await invoices.billedForPeriod(owner, { organizationId: org.id, subscriptionId: seeded.subscriptionId, before: JAN, since: JAN })).basis;
  await invoices.finalize(owner, { organizationId: org.id, invoiceId: opened.invoiceId, claimer, actor: 'rls', computation, basis });
  return { id: org.id, customerId: seeded.customerId };
}

let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  db = await throwawayPostgres({ poolMax: 4 });
  owner = db.pool;
  app = db.appPool;
  a = await seedTenant();
  b = await seedTenant();
});
afterAll(async () => db?.drop());

interface TenantTable {
  table: string;
  column: string;
}

/** Every table with an organization column (organizations: its id), from the catalog. */
async function tenantTables(): Promise<TenantTable[]> {
  const { rows } = await owner.query(
    `SELECT c.table_name AS table, c.column_name AS column FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = 'public' AND c.column_name IN ('organization_id', 'org_id')
     UNION ALL SELECT 'organizations', 'id'
      ORDER BY 1`,
  );
  return rows as TenantTable[];
}

// Identifiers come from the catalog, never from input; quoted anyway.
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function refusal(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return p.then(
    () => {
      throw new Error('expected PostgreSQL to refuse');
    },
    (err: unknown) => err as { code?: string; message: string },
  );
}

async function asApp<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await app.connect();
  try {
    return await work(client);
  } finally {
    client.release(true);
  }
}

describe('every tenant table', () => {
  it('has row-level security enabled and forced, with a policy (organizations included)', async () => {
    const tables = await tenantTables();
    expect(tables.map((t) => t.table)).toEqual(expect.arrayContaining(SEEDED));
    const { rows } = await owner.query(
      `SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')`,
    );
    const byName = new Map((rows as Array<{ table: string; enabled: boolean; forced: boolean; policies: number }>).map((r) => [r.table, r]));
    for (const { table } of tables) {
      expect(byName.get(table), `${table}: ENABLE + FORCE ROW LEVEL SECURITY and a policy`).toMatchObject({ enabled: true, forced: true, policies: expect.any(Number) });
      expect(byName.get(table)?.policies, `${table} has a policy`).toBeGreaterThan(0);
    }
    // A table without an organization column is global by decision, named here, or it is a bug.
    const unguarded = [...byName.values()].filter((r) => !r.enabled).map((r) => r.table).sort();
    expect(unguarded).toEqual(GLOBAL_TABLES);
  });

  it('shows the app role no row at all outside withOrg, though the owner sees both tenants\' rows', async () => {
    for (const { table, column } of await tenantTables()) {
      const seen = await owner.query(`SELECT count(*)::int AS n FROM ${ident(table)} WHERE ${ident(column)} = ANY($1::uuid[])`, [[a.id, b.id]]);
      if (SEEDED.includes(table)) expect((seen.rows[0] as { n: number }).n, `owner sees ${table}`).toBeGreaterThanOrEqual(2);
      const { rows } = await app.query(`SELECT * FROM ${ident(table)}`);
      expect(rows, `SELECT * FROM ${table} as ${APP_ROLE}, no organization set`).toEqual([]);
    }
  });

  it('shows withOrg(B) only B\'s rows, even to a query with no WHERE clause', async () => {
    for (const { table, column } of await tenantTables()) {
      const rows = await withOrg(app, b.id, async (tx) => (await tx.query(`SELECT ${ident(column)}::text AS org FROM ${ident(table)}`)).rows as Array<{ org: string }>);
      expect(rows.filter((r) => r.org !== b.id), `${table} under withOrg(B)`).toEqual([]);
      if (SEEDED.includes(table)) expect(rows.length, `${table}: B's own rows`).toBeGreaterThan(0);
    }
  });

  it('refuses, inside withOrg(B), to write a row for A, and leaves A\'s rows untouched by updates and deletes with no WHERE', async () => {
    const insert = (tx: Queryable) =>
      tx.query(`INSERT INTO customers (organization_id, external_id, name, currency, time_zone) VALUES ($1, 'planted', 'Planted', 'USD', 'UTC')`, [a.id]);
    expect(await refusal(withOrg(app, b.id, insert))).toMatchObject({ code: '42501', message: expect.stringContaining('row-level security') });
    // Moving one of B's rows to A is the same write.
    const move = (tx: Queryable) => tx.query('UPDATE customers SET organization_id = $1 WHERE id = $2', [a.id, b.customerId]);
    expect(await refusal(withOrg(app, b.id, move))).toMatchObject({ code: '42501' });

    const before = await owner.query('SELECT name FROM customers WHERE organization_id = $1 ORDER BY id', [a.id]);
    await withOrg(app, b.id, async (tx) => {
      await tx.query(`UPDATE customers SET name = 'renamed'`);
      await tx.query('DELETE FROM api_keys');
      throw new Error('roll back: only what B could reach matters');
    }).catch(() => undefined);
    const updated = await withOrg(app, b.id, (tx) => tx.query(`UPDATE customers SET name = name`));
    expect(updated.rowCount, 'an unqualified UPDATE reaches B\'s rows only').toBe(1);
    expect((await owner.query('SELECT name FROM customers WHERE organization_id = $1 ORDER BY id', [a.id])).rows).toEqual(before.rows);
  });

  it('lets the repositories see nothing of A when asked as B', async () => {
    await expect(invoices.list(app, { organizationId: b.id })).resolves.toMatchObject({ invoices: [expect.objectContaining({ organizationId: b.id })] });
    const { rows } = await withOrg(app, b.id, (tx) => tx.query('SELECT * FROM invoices WHERE organization_id = $1', [a.id]));
    expect(rows).toEqual([]);
  });
});

describe('every SECURITY DEFINER function', () => {
  // It runs as the owner, past row-level security: an unpinned search_path (or one without pg_temp
  // last) would let a caller's temporary object of the same name run with the owner's rights.
  it('pins its search_path with pg_temp last', async () => {
    const { rows } = await owner.query(
      `SELECT p.proname AS name, coalesce(array_to_string(p.proconfig, ','), '') AS config
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND n.nspname = 'public'`,
    );
    const functions = rows as Array<{ name: string; config: string }>;
    expect(functions.length).toBeGreaterThan(0);
    // proconfig holds `search_path=pg_catalog, public, pg_temp` (its own commas): match the entry whole.
    expect(functions.filter((f) => !/(^|,)search_path=[^=]*pg_temp\s*(,[a-z_.]+=|$)/.test(f.config))).toEqual([]);
  });
});

describe('the app role', () => {
  it('is neither superuser nor BYPASSRLS, owns nothing, and may not create roles or databases', async () => {
    const { rows } = await app.query(
      `SELECT current_user AS name, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,
              (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    expect(rows[0]).toEqual({ name: APP_ROLE, rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false, owned: 0 });
  });

  it('gets an error, not every row, with row_security = off', async () => {
    await asApp(async (client) => {
      await client.query('SET row_security = off');
      expect(await refusal(client.query('SELECT * FROM customers'))).toMatchObject({ code: '42501', message: expect.stringContaining('row-level security') });
    });
  });

  it('cannot switch the policies off, alter or drop a table, take the owner\'s role, create a table or write organizations', async () => {
    const attempts = [
      'ALTER TABLE customers DISABLE ROW LEVEL SECURITY',
      'ALTER TABLE customers NO FORCE ROW LEVEL SECURITY',
      'DROP POLICY tenant_isolation ON customers',
      'ALTER TABLE customers ADD COLUMN planted text',
      'DROP TABLE invoice_lines',
      'TRUNCATE customers',
      `SET ROLE ${(await owner.query('SELECT current_user AS u')).rows.map((r) => (r as { u: string }).u)[0] ?? 'polaris'}`,
      'CREATE TABLE planted (id int)',
      `CREATE FUNCTION polaris_current_org() RETURNS uuid LANGUAGE sql AS $$ SELECT NULL::uuid $$`,
    ];
    for (const sql of attempts) {
      await asApp(async (client) => {
        expect(await refusal(client.query(sql)), sql).toMatchObject({ code: expect.stringMatching(/^42501$|^42723$/) });
      });
    }
    const create = (tx: Queryable) => tx.query(`INSERT INTO organizations (slug, name) VALUES ('planted-org', 'Planted')`);
    expect(await refusal(withOrg(app, b.id, create))).toMatchObject({ code: '42501' });
  });
});

describe('cross-organization reads (SECURITY DEFINER functions, migration 006)', () => {
  it('give the app role ids across organizations, and only to it', async () => {
    const due = await invoices.dueForFinalization(app, { limit: 100 });
    expect(due).toEqual([]);
    const subscriptions = await billingCycle.dueSubscriptions(app, { settleMs: 0, limit: 100 });
    expect(new Set(subscriptions.map((s) => s.organizationId))).toEqual(new Set([a.id, b.id]));
    expect(Object.keys(subscriptions[0] ?? {}).sort()).toEqual(['organizationId', 'period', 'subscriptionId']);
    const { rows } = await owner.query(
      `SELECT p.proname AS name, p.prosecdef AS definer, p.proconfig AS config,
              has_function_privilege('public', p.oid, 'EXECUTE') AS public, has_function_privilege($1, p.oid, 'EXECUTE') AS app
         FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef`,
      [APP_ROLE],
    );
    for (const f of rows as Array<{ name: string; config: string[] | null; public: boolean; app: boolean }>) {
      expect(f.config?.some((c) => c.startsWith('search_path=')), `${f.name} pins its search_path`).toBe(true);
      expect(f.app, `${f.name} callable by ${APP_ROLE}`).toBe(true);
    }
    const ours = (rows as Array<{ name: string; public: boolean }>).filter((f) => f.name.startsWith('polaris_') && !['polaris_undispatched_notification_events', 'polaris_stalled_webhook_deliveries', 'polaris_orgs_with_active_thresholds'].includes(f.name));
    expect(ours.length).toBeGreaterThanOrEqual(6);
    for (const f of ours) expect(f.public, `${f.name}: not PUBLIC`).toBe(false);
  });

  it('resolve an API key to its organization, then read it under withOrg', async () => {
    const { key } = await apiKeys.create(owner, { organizationId: a.id, name: 'lookup', scopes: ['usage:read'] });
    const { hashApiKey } = await import('@polaris/shared/auth');
    const found = await apiKeys.findActiveByHash(app, hashApiKey(key));
    expect(found?.organization.id).toBe(a.id);
    expect(await apiKeys.findActiveByHash(app, hashApiKey(`${key}x`))).toBeUndefined();
  });

  it('give the sinks every organization\'s catalog, and let a worker claim across organizations', async () => {
    const snapshot = await meterCatalog.sync(app, { instanceId: 'rls-sink', takeLease: false }, { leaseTtlMs: 30_000 });
    expect(new Set(snapshot.versions.map((v) => v.organizationId))).toEqual(new Set([a.id, b.id]));
    const settings = { claimTtlMs: 60_000, leaseGraceMs: 0, maxAttempts: 3 };
    const first = await backfillQueue.claim(app, { workerId: 'rls-worker' }, settings);
    const second = await backfillQueue.claim(app, { workerId: 'rls-worker' }, settings);
    expect(new Set([first?.run.organizationId, second?.run.organizationId])).toEqual(new Set([a.id, b.id]));
    const run = first?.run;
    if (!run) throw new Error('no run claimed');
    await expect(backfillQueue.reportProgress(app, { runId: run.id, workerId: 'rls-worker', eventsDone: 1, eventsTotal: 2 }, settings)).resolves.toEqual({ cancelled: false });
    await expect(backfillQueue.complete(app, { runId: run.id, workerId: 'rls-worker', eventsDone: 2 })).resolves.toMatchObject({ state: 'completed', organizationId: run.organizationId });
  });
});

describe('withOrg', () => {
  it('joins a withOrg of the same organization on one connection and refuses another organization inside it', async () => {
    await withOrg(app, a.id, async (tx) => {
      const inner = await withOrg(tx, a.id, async (joined) => (await joined.query(`SELECT current_setting('polaris.org_id') AS org, txid_current() AS x`)).rows[0]);
      const outer = (await tx.query(`SELECT current_setting('polaris.org_id') AS org, txid_current() AS x`)).rows[0];
      expect(inner).toEqual(outer);
      await expect(withOrg(tx, b.id, async () => undefined)).rejects.toThrow(/acts for one organization/);
    });
  });

  it('leaves nothing of the organization on a pooled connection after it', async () => {
    const client = await app.connect();
    try {
      await withOrg(client, a.id, (tx) => tx.query('SELECT 1'));
      const { rows } = await client.query(`SELECT coalesce(current_setting('polaris.org_id', true), '') AS org`);
      expect(rows[0]).toEqual({ org: '' });
      expect((await client.query('SELECT * FROM customers')).rows).toEqual([]);
    } finally {
      client.release();
    }
  });
});
