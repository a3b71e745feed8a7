import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { eventually } from './support/http';
import { E2E_PORTS } from './support/ports';
import { freePort, readyz, startPrivate, type Readiness } from './support/private-services';
import { createTenant, type Tenant } from './support/tenants';

// The gateway's /readyz follows its gRPC backends as they go and come back: a private gateway over
// a private rating-worker (Identity, Meters, billing), which is stopped and then started again on
// the same port. Without Identity no request can be authenticated, so the gateway leaves the load
// balancer; once it answers again the gateway is ready again, with no restart of its own.

const check = (body: Readiness, name: string) => body.checks?.find((c) => c.name === name);

describe('gateway readiness follows the rating-worker', () => {
  let ratingWorker: RunningSystem | undefined;
  let gateway: RunningSystem | undefined;
  let tenant: Tenant;
  let grpcPort: number;
  let gatewayOps: number;
  let url: string;

  const startRatingWorker = async () =>
    startPrivate('gateway-readiness-rating', [{ name: 'rating-worker', opsPort: await freePort(), env: { GRPC_PORT: String(grpcPort), ADMIN_PORT: String(await freePort()) } }]);

  const me = async () => {
    const res = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(20_000),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    return { status: res.status, body: (await res.json()) as { data?: { me?: { id: string } } | null; errors?: Array<{ extensions?: { reason?: string } }> } };
  };

  beforeAll(async () => {
    tenant = await createTenant();
    grpcPort = await freePort();
    gatewayOps = await freePort();
    const httpPort = await freePort();
    url = `http://127.0.0.1:${httpPort}/graphql`;
    ratingWorker = await startRatingWorker();
    const rating = `127.0.0.1:${grpcPort}`;
    gateway = await startPrivate('gateway-readiness', [
      {
        name: 'gateway',
        opsPort: gatewayOps,
        env: {
          HTTP_PORT: String(httpPort),
          IDENTITY_GRPC_ADDR: rating,
          METERS_GRPC_ADDR: rating,
          USAGE_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.usageGrpc}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
          // No key cache: `me` after the outage must reach Identity again.
          API_KEY_CACHE_TTL_MS: '0',
        },
      },
    ]);
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await ratingWorker?.stop();
  });

  it('ready with the rating-worker up; not ready (naming identity and billing) once it stops; ready again when it is back', async () => {
    const up = await readyz(gatewayOps);
    expect(up.status).toBe(200);
    expect(check(up.body, 'identity')).toMatchObject({ ok: true, critical: true });
    expect(check(up.body, 'billing')).toMatchObject({ ok: true });
    expect((await me()).body.data?.me?.id).toBe(tenant.orgId);

    await ratingWorker?.stop();
    ratingWorker = undefined;
    const down = await eventually(async () => {
      const r = await readyz(gatewayOps);
      return r.status === 503 ? r : undefined;
    }, 'the gateway to report not ready');
    expect(down.body.status).toBe('not_ready');
    expect(check(down.body, 'identity')).toMatchObject({ ok: false, critical: true, error: expect.stringMatching(/identity/) });
    expect(check(down.body, 'billing')).toMatchObject({ ok: false, error: expect.stringMatching(/billing/) });
    expect(check(down.body, 'usage')).toMatchObject({ ok: true });
    // A request meanwhile is a clear 503 naming Identity, never a 500 or a hang.
    const refused = await me();
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions?.reason).toBe('identity_unavailable');

    ratingWorker = await startRatingWorker();
    // Ready as soon as Identity answers; Meters and billing, on the same server, reconnect alongside.
    const back = await eventually(async () => {
      const r = await readyz(gatewayOps);
      return r.status === 200 && r.body.checks?.every((c) => c.ok) ? r : undefined;
    }, 'the gateway to be ready again, every backend answering');
    expect(back.body.status).toBe('ready');
    expect((await me()).body.data?.me?.id).toBe(tenant.orgId);
  }, 120_000);
});
