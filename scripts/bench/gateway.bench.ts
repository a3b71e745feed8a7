/**
 * bench:gateway — what the GraphQL gateway adds on top of the gRPC services behind it, on demo-like
 * data (the demo's traffic, BENCH events over 30 days, three customers on a plan with invoices
 * drafted by the rating-worker) in a fresh organization of the local stack:
 *
 *   (a) `usage(metric, from, to) { total }` through gateway → Usage gRPC → ClickHouse, against the
 *       same Usage.QueryMeter called directly over gRPC: p50/p99 and the overhead (goal ≤ 2 ms p50);
 *   (b) a dashboard page in ONE GraphQL request: the usage timeline (windowSize DAY, with its
 *       total), the invoice list with each invoice's customer, and the recent events (`events`, when
 *       the schema has it): p95 (goal ≤ 100 ms), against the raw gRPC calls that page needs.
 *
 * The two paths of each pair alternate run by run, so a load spike on the machine hits both. Prints
 * latencies and ratios, never judges them: it fails only on errors and on answers that differ.
 *
 * The timed GraphQL requests go through node:http with a keep-alive agent, as the gRPC baseline
 * goes through grpc-js: Node's fetch (undici) spends about 1.3 ms of its own per request on this
 * machine (timers and stream plumbing, measured against a bare node:http server), which would be
 * counted as the gateway's. The floor row (`{ __typename }`: no credential, no backend) shows what
 * the HTTP hop and Yoga cost alone.
 */
import { apiKeys, organizations } from '@polaris/postgres';
import { UsageClient, WindowSize, InvoicesClient, CustomersClient, type QueryMeterRequest } from '@polaris/proto';
import { callUnary, createInternalAuth, insecureChannel, internalClientOptions } from '@polaris/shared/grpc';
import { eventually } from '@polaris/shared/testing';
import { Agent, request as httpRequest } from 'node:http';
import pg from 'pg';
import { sampleEvents } from '../src/demo/sample-events';
import { localInternalAuthSecret } from '../src/services/launcher';
import { repoRoot } from '../src/paths';
import { loadBenchConfig } from './support/bench-config';
import { BENCH_PORTS, benchBroker, Cleanup, machineConditions, newRunId, runBench, startBenchServices, throwawayDatabase } from './support/bench-system';
import { preflight } from './support/preflight';
import { benchPostgres } from './support/rating-catalog';
import { formatBenchTable, ms, percentile, rate } from './support/stats';

/** Demo traffic sent through the collector (half API calls, half token usage), over 30 days. */
const EVENTS = 60_000;
const SPAN_MS = 30 * 86_400_000;
const RUNS = 400;
const WARMUP = 30;
const DASHBOARD_RUNS = 200;
const BATCH = 500;
const DEADLINE_MS = 10_000;
const SCOPES = ['events:write', 'usage:read', 'meters:write', 'billing:read', 'billing:write'] as const;

const cfg = loadBenchConfig();
const run = newRunId();
const cleanup = new Cleanup();
cleanup.onInterrupt();

const gatewayUrl = `http://127.0.0.1:${BENCH_PORTS.gateway}/graphql`;
const collectorUrl = `http://127.0.0.1:${BENCH_PORTS.collector}/v1/events`;

/** The organization and its key, in the bench's own PostgreSQL database (dropped with it). */
async function createTenant(postgresUrl: string): Promise<{ orgId: string; apiKey: string }> {
  const db = new pg.Client({ connectionString: postgresUrl });
  await db.connect();
  try {
    const org = await organizations.create(db, { name: `Bench ${run}`, slug: `bench-gw-${run}` });
    const { key } = await apiKeys.create(db, { organizationId: org.id, name: `bench ${run}`, scopes: [...SCOPES] });
    return { orgId: org.id, apiKey: key };
  } finally {
    await db.end();
  }
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

function graphql(apiKey: string) {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    // Node's fetch keeps its connections alive, as a dashboard's backend would.
    const res = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GraphQLAnswer<T>;
    if (body.errors?.length || !body.data) throw new Error(`${query.slice(0, 80)}… failed (HTTP ${res.status}): ${JSON.stringify(body.errors)}`);
    return body.data;
  };
}

/** One POST /graphql over node:http (keep-alive): the timed requests' client (see the header). */
const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
function timedGraphql(apiKey: string | undefined) {
  return <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const body = JSON.stringify({ query, variables });
      const req = httpRequest(
        gatewayUrl,
        {
          method: 'POST',
          agent: keepAlive,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            accept: 'application/graphql-response+json',
            ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            try {
              const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphQLAnswer<T>;
              if (answer.errors?.length || !answer.data) throw new Error(`${query.slice(0, 80)}… failed (HTTP ${res.statusCode}): ${JSON.stringify(answer.errors)}`);
              resolve(answer.data);
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

async function sendEvents(apiKey: string, events: Record<string, unknown>[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < events.length) {
        const batch = events.slice(next, next + BATCH);
        next += BATCH;
        // The organization's event rate limit (5,000/s by default) paces the load: wait as told, then resend.
        for (;;) {
          const res = await fetch(collectorUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${apiKey}` },
            body: JSON.stringify(batch),
          });
          const text = await res.text();
          if (res.status === 202) break;
          if (res.status !== 429) throw new Error(`the collector answered ${res.status}: ${text}`);
          await new Promise((resolve) => setTimeout(resolve, 1_000 * Number(res.headers.get('retry-after') ?? 1)));
        }
      }
    }),
  );
}

/** Alternates `a` and `b`, `runs` times each after `warmup` untimed pairs: their latencies in ms. */
async function alternate<A, B>(runs: number, warmup: number, a: () => Promise<A>, b: () => Promise<B>) {
  const la: number[] = [];
  const lb: number[] = [];
  let lastA: A | undefined;
  let lastB: B | undefined;
  for (let i = 0; i < runs + warmup; i++) {
    let t = performance.now();
    lastA = await a();
    const da = performance.now() - t;
    t = performance.now();
    lastB = await b();
    const db = performance.now() - t;
    if (i >= warmup) {
      la.push(da);
      lb.push(db);
    }
  }
  const sorted = (l: number[]) => [...l].sort((x, y) => x - y);
  return { a: sorted(la), b: sorted(lb), lastA: lastA as A, lastB: lastB as B };
}

const monthStart = (back: number, now = new Date()) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));

async function main(): Promise<string[]> {
  await preflight(cfg.stack, [BENCH_PORTS.gateway, BENCH_PORTS.collector, BENCH_PORTS.usageGrpc, BENCH_PORTS.identityGrpc, ...Object.values(BENCH_PORTS.ops)]);
  console.log(`bench:gateway run ${run}: ${rate(EVENTS)} demo events over 30 days; machine: ${machineConditions()}`);
  // Stores of the bench's own, migrated like the real ones: nothing of the local stack's data is
  // read or written, and a stack whose own databases lag behind the migrations does not matter.
  const postgres = await benchPostgres(cfg.stack, cleanup);
  const clickhouse = await throwawayDatabase(cfg.stack, `bench_${run}_gateway`, cleanup);
  const { admin, topics } = await benchBroker(cfg.stack, run, cleanup);
  const groupId = `polaris-bench-gateway-${run}`;
  cleanup.add('delete consumer group', () => admin.deleteGroups([groupId]));
  const topicEnv = { EVENTS_TOPIC: topics.events, EVENTS_DLQ_TOPIC: topics.dlq, KAFKA_CLIENT_ID: `polaris-bench-${run}` };
  await startBenchServices(
    cfg.stack,
    ['rating-worker', 'sink-worker', 'collector', 'gateway'],
    {
      // Rate closed periods at once, so the organization has invoices to list.
      'rating-worker': { DATABASE_URL: postgres.url, RATING_SCAN_INTERVAL_MS: '1000', RATING_SETTLE_MS: '0', INVOICE_GRACE_MS: '86400000' },
      'sink-worker': { ...topicEnv, KAFKA_GROUP_ID: groupId, CLICKHOUSE_DATABASE: clickhouse.database },
      collector: topicEnv,
    },
    cleanup,
  );
  const { orgId, apiKey } = await createTenant(postgres.url);
  const gql = graphql(apiKey);
  const timed = timedGraphql(apiKey);
  cleanup.add('close the keep-alive agent', async () => keepAlive.destroy());

  // Demo-like data: the demo's two meters, its traffic, three customers on a plan since 3 months.
  for (const meter of [
    { slug: 'api_calls', name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' },
    { slug: 'tokens', name: 'Tokens', eventType: 'llm.tokens', aggregation: 'SUM', valuePath: '$.tokens', dimensions: [{ name: 'model', path: '$.model' }] },
  ]) {
    await gql('mutation($i: CreateMeterInput!) { createMeter(input: $i) { slug } }', { i: meter });
    await eventually(async () => {
      const { meter: m } = await gql<{ meter: { latestBackfill: { state: string } | null; pendingVersion: number | null } }>(
        'query($s: String!) { meter(slug: $s) { latestBackfill { state } pendingVersion } }',
        { s: meter.slug },
      );
      return m.latestBackfill?.state === 'completed' && m.pendingVersion === null ? true : undefined;
    }, `meter ${meter.slug} live`, 60_000, 250);
  }
  const now = Date.now();
  const started = performance.now();
  await sendEvents(apiKey, sampleEvents(EVENTS, now, SPAN_MS));
  // Whole UTC days around the traffic: the range of a 31-day dashboard timeline.
  const DAY_MS = 86_400_000;
  const from = new Date(now - SPAN_MS - (now % DAY_MS));
  const to = new Date(now - (now % DAY_MS) + DAY_MS);
  const usageArgs = { m: 'api_calls', f: from.toISOString(), t: to.toISOString() };
  await eventually(async () => {
    const { usage } = await gql<{ usage: { total: string } }>('query($m: String!, $f: DateTime, $t: DateTime) { usage(metric: $m, from: $f, to: $t) { total } }', usageArgs);
    return usage.total === String(EVENTS / 2) ? true : undefined;
  }, 'every event to be counted', 180_000, 500);
  console.log(`data: ${rate(EVENTS)} events stored and counted in ${ms(performance.now() - started)}`);

  await gql(`mutation { createPlan(input: { key: "starter", name: "Starter", currency: "USD", prices: [
    { key: "base", model: FLAT, amount: "10" }, { key: "calls", model: PER_UNIT, meterSlug: "api_calls", unitPrice: "0.001" }] }) { key } }`);
  await gql('mutation { publishPlanVersion(planKey: "starter", version: 1) { version } }');
  for (const name of ['acme', 'globex', 'initech']) {
    const { createCustomer } = await gql<{ createCustomer: { id: string } }>(
      'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
      { i: { externalId: name, name, currency: 'USD', subjects: [name] } },
    );
    await gql('mutation($i: CreateSubscriptionInput!) { createSubscription(input: $i) { id } }', {
      i: { customerId: createCustomer.id, planKey: 'starter', startAt: monthStart(3).toISOString() },
    });
  }
  const invoiceCount = await eventually(async () => {
    const { invoices } = await gql<{ invoices: unknown[] }>('{ invoices(first: 50) { id } }');
    return invoices.length >= 9 ? invoices.length : undefined;
  }, 'the rating-worker to draft three periods per customer', 120_000, 500);
  console.log(`billing: 3 customers, ${invoiceCount} invoices drafted`);

  // The raw baseline: the same services, called as the gateway calls them (its token, acting for the org).
  const secret = { INTERNAL_AUTH_SECRET: localInternalAuthSecret(repoRoot) };
  const options = internalClientOptions(createInternalAuth(secret, 'gateway'));
  const usage = new UsageClient(`127.0.0.1:${BENCH_PORTS.usageGrpc}`, insecureChannel, options);
  const invoices = new InvoicesClient(`127.0.0.1:${BENCH_PORTS.identityGrpc}`, insecureChannel, options);
  const customers = new CustomersClient(`127.0.0.1:${BENCH_PORTS.identityGrpc}`, insecureChannel, options);
  cleanup.add('close the gRPC clients', async () => [usage, invoices, customers].forEach((c) => c.close()));
  const scope = { actingFor: orgId };
  const queryMeter = (request: QueryMeterRequest) => callUnary('usage', usage.queryMeter.bind(usage), request, DEADLINE_MS, scope);
  const totalRequest: QueryMeterRequest = {
    organizationId: orgId, meterSlug: 'api_calls', from, to, windowSize: WindowSize.WINDOW_SIZE_UNSPECIFIED, windowTimeZone: 'UTC', groupBy: [], subjects: [], dimensionFilters: [],
  };

  const failures: string[] = [];
  const results: string[][] = [];
  const goals: string[] = [];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

  // (a) usage through the gateway vs Usage.QueryMeter directly.
  process.stdout.write(`\n(a) usage total: ${RUNS} runs each, alternating …`);
  const a = await alternate(
    RUNS,
    WARMUP,
    () => queryMeter(totalRequest),
    () => timed<{ usage: { total: string } }>('query($m: String!, $f: DateTime, $t: DateTime) { usage(metric: $m, from: $f, to: $t) { total } }', usageArgs),
  );
  if (a.lastA.rows[0]?.value !== a.lastB.usage.total) failures.push(`(a): gRPC total ${a.lastA.rows[0]?.value} ≠ GraphQL total ${a.lastB.usage.total}`);
  const overheadP50 = percentile(a.b, 0.5) - percentile(a.a, 0.5);
  const overheadP99 = percentile(a.b, 0.99) - percentile(a.a, 0.99);
  results.push(['Usage.QueryMeter (gRPC, raw)', String(RUNS), ms(percentile(a.a, 0.5)), ms(percentile(a.a, 0.95)), ms(percentile(a.a, 0.99)), '1.00x', '–']);
  results.push([
    'usage { total } (GraphQL)', String(RUNS), ms(percentile(a.b, 0.5)), ms(percentile(a.b, 0.95)), ms(percentile(a.b, 0.99)),
    `${(percentile(a.b, 0.5) / percentile(a.a, 0.5)).toFixed(2)}x`, `+${ms(overheadP50)} p50, +${ms(overheadP99)} p99`,
  ]);
  goals.push(`(a) gateway overhead p50 ${ms(overheadP50)} (goal ≤ 2 ms: ${met(overheadP50 <= 2)}); p99 ${ms(overheadP99)}`);
  // The floor: the HTTP hop and Yoga alone (no credential, no backend), alternating with the raw call too.
  const floor = await alternate(RUNS, WARMUP, () => queryMeter(totalRequest), () => timedGraphql(undefined)<{ __typename: string }>('{ __typename }'));
  results.push(['{ __typename } (GraphQL floor: no auth, no backend)', String(RUNS), ms(percentile(floor.b, 0.5)), ms(percentile(floor.b, 0.95)), ms(percentile(floor.b, 0.99)), '–', '–']);
  console.log(' done');

  // (b) the dashboard page in one request, against the raw calls it needs (side by side, as the gateway makes them).
  const fields = (await gql<{ __type: { fields: Array<{ name: string }> } }>('{ __type(name: "Query") { fields { name } } }')).__type.fields.map((f) => f.name);
  const withEvents = fields.includes('events');
  if (!withEvents) console.log('note: the schema has no `events` field yet: the dashboard page is timed without recent events');
  const dashboard = `query($m: String!, $f: DateTime, $t: DateTime) {
    usage(metric: $m, from: $f, to: $t, windowSize: DAY) { total rows { windowStart value } }
    invoices(first: 20) { id number status totalAmount currency periodStart customer { name externalId } }
    ${withEvents ? 'events(first: 20) { nodes { id type subject time } }' : ''}
  }`;
  const dayRequest = { ...totalRequest, windowSize: WindowSize.WINDOW_SIZE_DAY };
  const recentEvents = () =>
    withEvents
      ? callUnary('usage', usage.listEvents.bind(usage), { organizationId: orgId, pageSize: 20, pageToken: '', type: '', subject: '' }, DEADLINE_MS, scope)
      : Promise.resolve(undefined);
  // Each raw call's own latency too: which one the page waits for.
  const callTimes: Record<string, number[]> = { 'QueryMeter DAY': [], 'QueryMeter total': [], ListInvoices: [], ListEvents: [], BatchGetCustomers: [] };
  const timedCall = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const result = await call();
    callTimes[name]?.push(performance.now() - t);
    return result;
  };
  const rawDashboard = async () => {
    const [days, total, page] = await Promise.all([
      timedCall('QueryMeter DAY', () => queryMeter(dayRequest)),
      timedCall('QueryMeter total', () => queryMeter(totalRequest)),
      timedCall('ListInvoices', () =>
        callUnary('billing', invoices.listInvoices.bind(invoices), { organizationId: orgId, customerId: '', subscriptionId: '', status: '', pageSize: 20, pageToken: '' }, DEADLINE_MS, scope),
      ),
      withEvents ? timedCall('ListEvents', recentEvents) : recentEvents(),
    ]);
    const customerIds = [...new Set(page.invoices.map((i) => i.customerId))];
    const found = await timedCall('BatchGetCustomers', () =>
      callUnary('billing', customers.batchGetCustomers.bind(customers), { organizationId: orgId, customerIds }, DEADLINE_MS, scope),
    );
    return { days, total, page, found };
  };
  process.stdout.write(`(b) dashboard page: ${DASHBOARD_RUNS} runs each, alternating …`);
  const b = await alternate(DASHBOARD_RUNS, WARMUP, rawDashboard, () =>
    timed<{ usage: { rows: unknown[] }; invoices: unknown[] }>(dashboard, usageArgs),
  );
  if (b.lastA.days.rows.length !== b.lastB.usage.rows.length) failures.push(`(b): ${b.lastA.days.rows.length} daily rows over gRPC, ${b.lastB.usage.rows.length} over GraphQL`);
  const p95 = percentile(b.b, 0.95);
  results.push(['dashboard: raw gRPC calls', String(DASHBOARD_RUNS), ms(percentile(b.a, 0.5)), ms(percentile(b.a, 0.95)), ms(percentile(b.a, 0.99)), '1.00x', '–']);
  results.push([
    `dashboard page (GraphQL, 1 request${withEvents ? ', with events' : ''})`, String(DASHBOARD_RUNS), ms(percentile(b.b, 0.5)), ms(p95), ms(percentile(b.b, 0.99)),
    `${(percentile(b.b, 0.5) / percentile(b.a, 0.5)).toFixed(2)}x`, `+${ms(percentile(b.b, 0.5) - percentile(b.a, 0.5))} p50`,
  ]);
  goals.push(`(b) dashboard page p95 ${ms(p95)} (goal ≤ 100 ms: ${met(p95 <= 100)})${withEvents ? '' : ' — without recent events'}`);
  console.log(' done\n');
  console.log(formatBenchTable(['path', 'runs', 'p50', 'p95', 'p99', 'p50 ÷ raw', 'overhead'], results));
  console.log(`\n(b) raw = QueryMeter DAY + QueryMeter total + ListInvoices${withEvents ? ' + ListEvents' : ''} side by side, then BatchGetCustomers`);
  const calls = Object.entries(callTimes)
    .filter(([, times]) => times.length > 0)
    .map(([name, times]) => {
      const sorted = [...times.slice(-DASHBOARD_RUNS)].sort((x, y) => x - y);
      return [name, String(sorted.length), ms(percentile(sorted, 0.5)), ms(percentile(sorted, 0.95)), ms(percentile(sorted, 0.99))];
    });
  console.log(`\n(b) each raw call, as the page makes them:\n${formatBenchTable(['call', 'runs', 'p50', 'p95', 'p99'], calls)}`);
  console.log(`\ngoals (reported, not enforced):\n  ${goals.join('\n  ')}`);
  return failures;
}

await runBench(main, cleanup);
