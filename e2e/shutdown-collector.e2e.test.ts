import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { EVENTS_TOPIC } from '@polaris/shared/contracts';
import { postOnNewConnection, type FreshAnswer } from './support/fresh-connection';
import { cloudEvent, eventually } from './support/http';
import { runLoad } from './support/load';
import { freePort, hasExited, networkError, readyz, serviceOf, sigterm } from './support/private-services';
import { closeRowClients, rowsPerId } from './support/stored-rows';
import type { TableLock, ThrowawayPostgres } from './support/throwaway-postgres';
import { startHeldAtIdentity } from './support/held-at-identity';
import { groupReached, topicEnds } from './support/topics';
import type { Tenant } from './support/tenants';

/**
 * README, Operations guide, "Shutdown": on SIGTERM the collector turns readiness off, stops
 * accepting, finishes the requests in flight and flushes the producer, within SHUTDOWN_TIMEOUT_MS;
 * and a 202 means the event is durable, so nothing accepted may be lost on the way out.
 *
 * The requests in flight at SIGTERM are made certain, not likely: the collector asks Identity for
 * every request (key cache off), Identity is a private rating-worker on a database of its own, and
 * the test locks that database's organizations table, so each client's request waits inside the
 * collector at a point PostgreSQL can count (pg_stat_activity). Events go to the shared broker
 * and topic, where the suite's sink-worker stores them.
 */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** How late past its own deadline the exit may be seen on a loaded machine. */
const EXIT_MARGIN_MS = 5_000;
const CLIENTS = 6;
/** The suite's sink-worker group (global-setup.ts runs it with the default KAFKA_GROUP_ID). */
const SUITE_SINK_GROUP = 'polaris-sink';

interface Answer {
  status: number;
  body: unknown;
}

describe('collector: SIGTERM under load', () => {
  let pgdb: ThrowawayPostgres;
  let tenant: Tenant;
  let apiKeys: string[];
  let system: RunningSystem | undefined;
  let lock: TableLock | undefined;
  let httpPort: number;
  let opsPort: number;

  beforeAll(async () => {
    // A key per client, plus one for the request sent during the drain: each waits at Identity on its own.
    ({ system, pgdb, tenant, apiKeys, httpPort, opsPort } = await startHeldAtIdentity('shutdown-collector', 'collector', { GRPC_PORT: String(await freePort()) }, SHUTDOWN_TIMEOUT_MS, { keys: CLIENTS + 1 }));
  });

  afterAll(async () => {
    await lock?.release();
    await system?.stop();
    await pgdb?.drop();
    await closeRowClients();
  });

  it('turns not ready first, refuses new requests, answers every request in flight, exits 0, and loses no accepted event', async () => {
    const collector = serviceOf(system, 'collector');
    const url = `http://127.0.0.1:${httpPort}/v1/events`;
    const post = async ({ id, apiKey }: { id: string; apiKey: string }): Promise<Answer> => {
      const res = await fetch(url, {
        method: 'POST',
        signal: AbortSignal.timeout(30_000),
        headers: { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(cloudEvent({ id, source: 'e2e-shutdown' })),
      });
      return { status: res.status, body: await res.json().catch(() => undefined) };
    };
    const load = runLoad<{ id: string; apiKey: string }, Answer>({
      clients: CLIENTS,
      next: (client) => ({ id: `sd-${randomUUID()}`, apiKey: apiKeys[client] ?? tenant.apiKey }),
      send: post,
      normal: (a) => a.status === 202,
      describe: networkError,
    });

    // A steady load first.
    await eventually(async () => (load.normalCount() >= 10 * CLIENTS ? true : undefined), 'the load to be accepted steadily');

    // Hold every client's next request inside the collector, waiting on Identity.
    lock = await pgdb.lock('organizations');
    await eventually(
      async () => ((await pgdb.waitingQueries('rating-worker')) === CLIENTS && load.inFlight().length === CLIENTS ? true : undefined),
      `all ${CLIENTS} clients to have a request waiting inside the collector`,
      10_000,
      20,
    );
    const held = load.inFlight();
    const heldSince = Date.now();
    const term = sigterm(collector, SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);

    // Readiness turns 503 first: the requests in flight are still waiting, the process still running.
    const notReady = await eventually(async () => {
      const r = await readyz(opsPort);
      return r.status === 503 ? r : undefined;
    }, 'the collector /readyz to turn 503', 5_000, 20);
    expect(notReady.body).toEqual({ status: 'shutting_down' });
    expect(hasExited(collector)).toBe(false);
    expect(held.filter((o) => o.result !== undefined)).toEqual([]);

    // It no longer takes requests in: one sent now, over a new connection, is refused (503, or the
    // connection refused). Had it been taken in, it would wait on the lock too, and PostgreSQL would
    // count one more waiter.
    let late: FreshAnswer | undefined;
    void postOnNewConnection(
      url,
      { 'content-type': 'application/cloudevents+json', authorization: `Bearer ${apiKeys[CLIENTS] ?? tenant.apiKey}` },
      JSON.stringify(cloudEvent({ id: `sd-late-${randomUUID()}`, source: 'e2e-shutdown' })),
    ).then((answer) => (late = answer));
    await eventually(async () => {
      if (late) return late;
      expect(await pgdb.waitingQueries('rating-worker'), 'a request sent after SIGTERM was taken in').toBe(CLIENTS);
      return undefined;
    }, 'the request sent during the drain to be answered', 10_000, 20);
    expect(late && ('status' in late ? `HTTP ${late.status}` : late.error)).toMatch(/^(HTTP 503|ECONNREFUSED)$/);
    // A refusal carries the documented error shape, with its own code.
    if (late && 'status' in late) expect(JSON.parse(late.body)).toMatchObject({ error: { code: 'shutting_down' } });

    // Let the requests in flight go on: each gets its normal answer, then the process exits 0.
    await lock.release();
    const heldMs = Date.now() - heldSince;
    const exit = await term.exited;
    expect(exit, `exit after SIGTERM; log: ${collector.logFile}`).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    await load.stop();

    // (The collector gives Identity 2 s per call: the hold must end well before, and does.)
    for (const o of held) expect(o.result, `request ${o.input.id}, in flight at SIGTERM, held ${heldMs} ms`).toEqual({ ok: true, value: { status: 202, body: { accepted: 1 } } });
    const before = load.outcomes.filter((o) => o.startedAt < term.sentAt);
    expect(before.filter((o) => !(o.result?.ok && o.result.value.status === 202))).toEqual([]);
    // After SIGTERM: the normal answer, or a clean refusal (503, or no connection at all).
    const after = load.outcomes.filter((o) => o.startedAt >= term.sentAt);
    const unclean = after.filter((o) => {
      const r = o.result;
      if (!r) return true;
      return r.ok ? r.value.status !== 202 && r.value.status !== 503 : r.error !== 'ECONNREFUSED';
    });
    expect(unclean).toEqual([]);

    // Nothing accepted is lost, nothing is stored twice, and nothing refused was taken in: once the
    // suite's sink has committed everything on the topic up to now, the stored ids are exactly the
    // accepted ones, one row each.
    const accepted = new Set(load.outcomes.filter((o) => o.result?.ok && o.result.value.status === 202).map((o) => o.input.id));
    const ends = await topicEnds(EVENTS_TOPIC);
    await eventually(() => groupReached(SUITE_SINK_GROUP, EVENTS_TOPIC, ends), 'the suite sink-worker to commit everything produced so far', 60_000);
    const rows = await rowsPerId(tenant.orgId);
    expect([...rows.keys()].sort()).toEqual([...accepted].sort());
    expect([...rows.values()].filter((n) => n !== 1)).toEqual([]);
  });
});
