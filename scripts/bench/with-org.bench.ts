// What row-level security costs a request: one customer read by id, sequentially, as a bare pool
// query (the owner, no policies: what a request cost before migration 006) and inside withOrg as
// the services' role (BEGIN + set_config in one round trip, the query under the policy, COMMIT).
// `node --import tsx scripts/bench/with-org.bench.ts [requests]` against the local stack.
import { randomBytes } from 'node:crypto';
import { customers, organizations, withOrg, type Pool } from '@polaris/postgres';
import { throwawayPostgres } from '@polaris/postgres/testing';
import { loadDevConfig } from '../src/config';

const requests = Number(process.argv[2] ?? 5_000);
const SQL = 'SELECT id, name FROM customers WHERE organization_id = $1 AND id = $2';

function summary(label: string, ms: number[]): string {
  const sorted = [...ms].sort((x, y) => x - y);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3);
  const mean = (ms.reduce((s, v) => s + v, 0) / ms.length).toFixed(3);
  return `${label.padEnd(34)} mean ${mean} ms  p50 ${at(0.5)} ms  p99 ${at(0.99)} ms`;
}

async function time(n: number, once: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 200; i++) await once(); // warm the pool and the plan cache
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await once();
    ms.push(performance.now() - t);
  }
  return ms;
}

const db = await throwawayPostgres({ serverUrl: loadDevConfig().postgres.url, poolMax: 1 });
try {
  const org = await organizations.create(db.pool, { name: 'bench', slug: `bench-${randomBytes(4).toString('hex')}` });
  for (let i = 0; i < 1_000; i++) await customers.create(db.pool, { organizationId: org.id, externalId: `c-${i}`, name: `c-${i}`, currency: 'USD' });
  const { id } = await customers.get(db.pool, { organizationId: org.id, externalId: 'c-500' });
  const bare = (pool: Pool) => () => pool.query(SQL, [org.id, id]);
  const scoped = (pool: Pool) => () => withOrg(pool, org.id, (tx) => tx.query(SQL, [org.id, id]));
  console.log(`${requests} sequential reads of one customer (of 1,000), one connection, local stack`);
  const baseline = await time(requests, bare(db.pool));
  console.log(summary('bare pool query (owner, no RLS)', baseline));
  console.log(summary('withOrg as polaris_app (RLS)', await time(requests, scoped(db.appPool))));
  console.log(summary('withOrg as owner (transaction only)', await time(requests, scoped(db.pool))));
  console.log(summary('bare pool query again', await time(requests, bare(db.pool))));
} finally {
  await db.drop();
}
