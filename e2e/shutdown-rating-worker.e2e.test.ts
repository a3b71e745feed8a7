import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { IdentityClient, type ValidateApiKeyResponse } from '@polaris/proto';
import type { RunningSystem } from '@polaris/dev/launcher';
import { eventually } from './support/http';
import { callerMetadata } from './support/internal-token';
import { runLoad } from './support/load';
import { freePort, hasExited, readyz, serviceOf, sigterm, startPrivate } from './support/private-services';
import { throwawayPostgres, type TableLock, type ThrowawayPostgres } from './support/throwaway-postgres';
import type { Tenant } from './support/tenants';

/**
 * README, Operations guide, "Shutdown", for the rating-worker (Identity gRPC over PostgreSQL): on
 * SIGTERM readiness goes off, the gRPC server takes no new calls, the calls in flight finish, the
 * pool closes, and the process exits 0 within SHUTDOWN_TIMEOUT_MS, under a steady load of
 * ValidateApiKey calls.
 *
 * The calls in flight at SIGTERM are made certain: the rating-worker runs on a database of its own
 * whose organizations table the test locks, so each call waits in PostgreSQL, where
 * pg_stat_activity counts it.
 */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** How late past its own deadline the exit may be seen on a loaded machine. */
const EXIT_MARGIN_MS = 5_000;
const CLIENTS = 6;
const CALL_DEADLINE_MS = 30_000;

type Answer = { code: number; details?: string; organizationId?: string };

describe('rating-worker: SIGTERM under load', () => {
  let pgdb: ThrowawayPostgres;
  let tenant: Tenant;
  let system: RunningSystem | undefined;
  let lock: TableLock | undefined;
  let grpcPort: number;
  let opsPort: number;
  const clients: Array<InstanceType<typeof IdentityClient>> = [];

  beforeAll(async () => {
    pgdb = await throwawayPostgres();
    tenant = await pgdb.createTenant();
    grpcPort = await freePort();
    opsPort = await freePort();
    system = await startPrivate('shutdown-rating-worker', [
      { name: 'rating-worker', opsPort, env: { DATABASE_URL: pgdb.appUrl, GRPC_PORT: String(grpcPort), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } },
    ]);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await lock?.release();
    await system?.stop();
    await pgdb?.drop();
  });

  /** ValidateApiKey as the collector and gateway call it (with a caller token); any gRPC status comes back as an answer. */
  const validate = async (client: InstanceType<typeof IdentityClient>, apiKey: string) => {
    const metadata = await callerMetadata(IdentityClient.serviceName, { caller: 'collector' });
    return new Promise<Answer>((resolve) => {
      client.validateApiKey({ apiKey }, metadata, { deadline: Date.now() + CALL_DEADLINE_MS }, (err: ServiceError | null, res?: ValidateApiKeyResponse) =>
        resolve(err ? { code: err.code, details: err.details } : { code: grpcStatus.OK, organizationId: res?.organization?.id }),
      );
    });
  };

  it('turns not ready first, refuses new calls, finishes the calls in flight, and exits 0', async () => {
    const ratingWorker = serviceOf(system, 'rating-worker');
    // Two channels, as two callers (a collector and a gateway) would hold.
    const channels = [new IdentityClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure()), new IdentityClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure())];
    clients.push(...channels);
    const channel = (i: number) => channels[i % channels.length] as InstanceType<typeof IdentityClient>;
    const load = runLoad<number, Answer>({
      clients: CLIENTS,
      next: (client) => client % channels.length,
      send: (i) => validate(channel(i), tenant.apiKey),
      normal: (a) => a.code === grpcStatus.OK,
      describe: (err) => String(err),
    });
    await eventually(async () => (load.normalCount() >= 10 * CLIENTS ? true : undefined), 'the calls to be answered steadily');

    lock = await pgdb.lock('organizations');
    await eventually(
      async () => ((await pgdb.waitingQueries('rating-worker')) === CLIENTS && load.inFlight().length === CLIENTS ? true : undefined),
      `all ${CLIENTS} calls to be waiting in PostgreSQL`,
      10_000,
      20,
    );
    const held = load.inFlight();
    const term = sigterm(ratingWorker, SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);

    const notReady = await eventually(async () => {
      const r = await readyz(opsPort);
      return r.status === 503 ? r : undefined;
    }, 'the rating-worker /readyz to turn 503', 5_000, 20);
    expect(notReady.body).toEqual({ status: 'shutting_down' });
    expect(hasExited(ratingWorker)).toBe(false);
    expect(held.filter((o) => o.result !== undefined)).toEqual([]);

    // A call now, on a channel that is already connected and on a new one, is refused (UNAVAILABLE):
    // had it been taken in, it would wait on the lock, and PostgreSQL would count one more waiter.
    const fresh = new IdentityClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    clients.push(fresh);
    const lateAnswers: Answer[] = [];
    void Promise.all([validate(channel(0), tenant.apiKey), validate(fresh, tenant.apiKey)]).then((a) => lateAnswers.push(...a));
    await eventually(async () => {
      if (lateAnswers.length === 2) return true;
      expect(await pgdb.waitingQueries('rating-worker'), 'a call made after SIGTERM was taken in').toBe(CLIENTS);
      return undefined;
    }, 'the calls made during the drain to be answered', 10_000, 20);
    expect(lateAnswers.map((a) => a.code)).toEqual([grpcStatus.UNAVAILABLE, grpcStatus.UNAVAILABLE]);

    await lock.release();
    const exit = await term.exited;
    expect(exit, `exit after SIGTERM; log: ${ratingWorker.logFile}`).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    await load.stop();

    for (const o of held) expect(o.result, 'a call in flight at SIGTERM').toEqual({ ok: true, value: { code: grpcStatus.OK, organizationId: tenant.orgId } });
    const before = load.outcomes.filter((o) => o.startedAt < term.sentAt);
    expect(before.filter((o) => !(o.result?.ok && o.result.value.code === grpcStatus.OK))).toEqual([]);
    // After SIGTERM: answered, or refused with UNAVAILABLE (the status a client retries), nothing else.
    const after = load.outcomes.filter((o) => o.startedAt >= term.sentAt);
    expect(after.filter((o) => !(o.result?.ok && [grpcStatus.OK, grpcStatus.UNAVAILABLE].includes(o.result.value.code)))).toEqual([]);
  });
});
