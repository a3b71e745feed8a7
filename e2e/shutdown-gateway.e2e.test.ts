import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { postOnNewConnection } from './support/fresh-connection';
import { eventually } from './support/http';
import { runLoad, type Load } from './support/load';
import { E2E_PORTS } from './support/ports';
import { hasExited, networkError, readyz, serviceOf, sigterm } from './support/private-services';
import { closeRowClients, rowsPerId } from './support/stored-rows';
import type { TableLock, ThrowawayPostgres } from './support/throwaway-postgres';
import { startHeldAtIdentity } from './support/held-at-identity';
import { createMeter } from './support/meters';
import { groupReached, topicEnds } from './support/topics';
import type { Tenant } from './support/tenants';

/**
 * README, Operations guide, "Shutdown", for the gateway: on SIGTERM readiness goes off, the server
 * stops accepting, the GraphQL requests in flight finish, and the process exits 0 within
 * SHUTDOWN_TIMEOUT_MS, while clients keep sending `me`, `usage` and `recordEvent`.
 *
 * The requests in flight at SIGTERM are made certain: the gateway asks Identity for every request
 * (key cache off), Identity is a private rating-worker on a database of its own, and the test
 * locks that database's organizations table, so each client's request waits inside the gateway at
 * a point PostgreSQL counts. Every connection is then busy when SIGTERM comes: none is idle, so
 * none can be closed under a request the client is just sending (the keep-alive race no server
 * can avoid; a load balancer drained by readiness does not send then). `usage` goes on to a private
 * Usage API, which finds the tenant's meter in the private database; `recordEvent` goes on to the
 * suite's collector, and every event it accepted must be stored exactly once.
 */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** How late past its own deadline the exit may be seen on a loaded machine. */
const EXIT_MARGIN_MS = 5_000;
const ME_CLIENTS = 3;
const USAGE_CLIENTS = 2;
const RECORD_CLIENTS = 3;
/** At most the rating-worker's pool (DATABASE_POOL_MAX, 10): one waiting query each. */
const CLIENTS = ME_CLIENTS + USAGE_CLIENTS + RECORD_CLIENTS;
const SUITE_SINK_GROUP = 'polaris-sink';

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

const ME = '{ me { id } }';
const METER = { slug: 'api_calls', name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' } as const;
const USAGE = `{ usage(metric: "${METER.slug}", from: "2026-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { rows { eventCount } } }`;
const RECORD = 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { accepted } }';

describe('gateway: SIGTERM under load', () => {
  let pgdb: ThrowawayPostgres;
  let tenant: Tenant;
  let apiKeys: string[];
  let system: RunningSystem | undefined;
  let lock: TableLock | undefined;
  let httpPort: number;
  let opsPort: number;

  beforeAll(async () => {
    // A key per client: concurrent requests with one key share one Identity call, and each client
    // must wait at Identity on its own, where PostgreSQL counts it.
    ({ system, pgdb, tenant, apiKeys, httpPort, opsPort } = await startHeldAtIdentity(
      'shutdown-gateway',
      'gateway',
      { INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}` },
      SHUTDOWN_TIMEOUT_MS,
      { keys: CLIENTS, usageApi: true },
    ));
    // The meter `usage` asks about, made by a key that may manage meters (the clients' keys may not).
    await createMeter(`http://127.0.0.1:${httpPort}/graphql`, await pgdb.createApiKey(tenant.orgId, ['meters:write']), METER);
  });

  afterAll(async () => {
    await lock?.release();
    await system?.stop();
    await pgdb?.drop();
    await closeRowClients();
  });

  it('turns not ready first, refuses new connections, finishes the requests in flight, exits 0, and loses no recorded event', async () => {
    const gateway = serviceOf(system, 'gateway');
    /** What a request is ('me', 'usage' or the id recordEvent sends) and the key it is sent with. */
    type Input = { what: string; apiKey: string };
    const post = async (apiKey: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/graphql`, {
        method: 'POST',
        signal: AbortSignal.timeout(30_000),
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, ...((await res.json()) as Omit<Answer, 'status'>) };
    };
    const normal = (a: Answer) => a.status === 200 && a.errors === undefined;
    let clientsSoFar = 0;
    const load = (clients: number, what: () => string, send: (input: Input) => Promise<Answer>): Load<Input, Answer> => {
      const firstKey = clientsSoFar;
      clientsSoFar += clients;
      return runLoad({ clients, next: (client) => ({ what: what(), apiKey: apiKeys[firstKey + client] ?? tenant.apiKey }), send, normal, describe: networkError });
    };
    const me = load(ME_CLIENTS, () => 'me', (i) => post(i.apiKey, ME));
    const usage = load(USAGE_CLIENTS, () => 'usage', (i) => post(i.apiKey, USAGE));
    const record = load(
      RECORD_CLIENTS,
      () => `gw-${randomUUID()}`,
      (i) => post(i.apiKey, RECORD, { input: { id: i.what, source: 'e2e-shutdown', type: 'api.request', subject: 'customer-1', data: { n: 1 } } }),
    );
    const loads = [me, usage, record];

    await eventually(async () => (loads.every((l) => l.normalCount() >= 5) ? true : undefined), 'every kind of request to be answered steadily');

    // Hold every client's next request inside the gateway, waiting on Identity.
    lock = await pgdb.lock('organizations');
    const inFlight = () => loads.flatMap((l) => l.inFlight());
    await eventually(
      async () => ((await pgdb.waitingQueries('rating-worker')) === CLIENTS && inFlight().length === CLIENTS ? true : undefined),
      `all ${CLIENTS} clients to have a request waiting inside the gateway`,
      10_000,
      20,
    );
    const held = inFlight();
    const heldSince = Date.now();
    const term = sigterm(gateway, SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);

    const notReady = await eventually(async () => {
      const r = await readyz(opsPort);
      return r.status === 503 ? r : undefined;
    }, 'the gateway /readyz to turn 503', 5_000, 20);
    expect(notReady.body).toEqual({ status: 'shutting_down' });
    expect(hasExited(gateway)).toBe(false);
    expect(held.filter((o) => o.result !== undefined)).toEqual([]);

    // A new connection is refused now.
    const late = await postOnNewConnection(
      `http://127.0.0.1:${httpPort}/graphql`,
      { 'content-type': 'application/json', authorization: `Bearer ${tenant.apiKey}` },
      JSON.stringify({ query: USAGE }),
    );
    expect(late).toEqual({ error: 'ECONNREFUSED' });

    await lock.release();
    const heldMs = Date.now() - heldSince;
    const exit = await term.exited;
    expect(exit, `exit after SIGTERM; log: ${gateway.logFile}`).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    await Promise.all(loads.map((l) => l.stop()));

    // Each answered in full (the gateway gives Identity 2 s per call: the hold ends well before).
    const expected = (input: string) =>
      input === 'me' ? { me: { id: tenant.orgId } } : input === 'usage' ? { usage: { rows: expect.any(Array) } } : { recordEvent: { accepted: 1 } };
    for (const o of held) expect(o.result, `${o.input.what}, in flight at SIGTERM, held ${heldMs} ms`).toEqual({ ok: true, value: { status: 200, data: expected(o.input.what) } });
    const all = loads.flatMap((l) => l.outcomes);
    const before = all.filter((o) => o.startedAt < term.sentAt);
    expect(before.filter((o) => !(o.result?.ok && normal(o.result.value)))).toEqual([]);
    const unclean = all
      .filter((o) => o.startedAt >= term.sentAt)
      .filter((o) => (o.result?.ok ? !normal(o.result.value) && o.result.value.status !== 503 : o.result?.error !== 'ECONNREFUSED'));
    expect(unclean).toEqual([]);

    // Every event recordEvent accepted is stored, once; nothing else is.
    const accepted = new Set(record.outcomes.filter((o) => o.result?.ok && normal(o.result.value)).map((o) => o.input.what));
    const ends = await topicEnds(EVENTS_TOPIC);
    await eventually(() => groupReached(SUITE_SINK_GROUP, EVENTS_TOPIC, ends), 'the suite sink-worker to commit everything produced so far', 60_000);
    const rows = await rowsPerId(tenant.orgId);
    expect([...rows.keys()].sort()).toEqual([...accepted].sort());
    expect([...rows.values()].filter((n) => n !== 1)).toEqual([]);
  });
});
