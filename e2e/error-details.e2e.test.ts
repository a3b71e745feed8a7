import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { E2E_PORTS } from './support/ports';
import { freePort, serviceOf, startPrivate } from './support/private-services';
import { cloudEvent, eventually, postEvents } from './support/http';
import { createTenant, type Tenant } from './support/tenants';

// Issue 13: with the rating-worker unreachable, clients read `identity service is unavailable:
// Name resolution failed for target dns:///rating-worker-grpc…` in GraphQL errors and HTTP bodies:
// the cluster's service names and ports. Now they get the code and a request id; the detail is in
// the service's log, under that id. Identity here is a DNS name that cannot resolve, as when the
// rating-worker's headless Service has no ready pod.

const UNRESOLVABLE = 'dns:///rating-worker-grpc.polaris.svc.cluster.invalid:50053';
const INTERNALS = /rating-worker-grpc|cluster\.invalid|50053|Name resolution|dns:|remote_addr|ECONNREFUSED|127\.0\.0\.1/;

describe('an unreachable dependency: the client gets a code and a request id, the log the detail', () => {
  let system: RunningSystem | undefined;
  let tenant: Tenant;
  let gatewayUrl: string;
  let collectorUrl: string;

  beforeAll(async () => {
    tenant = await createTenant();
    const [gatewayHttp, collectorHttp] = [await freePort(), await freePort()];
    gatewayUrl = `http://127.0.0.1:${gatewayHttp}/graphql`;
    collectorUrl = `http://127.0.0.1:${collectorHttp}`;
    system = await startPrivate('error-details', [
      {
        name: 'gateway',
        opsPort: await freePort(),
        waitFor: 'healthz',
        env: {
          HTTP_PORT: String(gatewayHttp),
          IDENTITY_GRPC_ADDR: UNRESOLVABLE,
          USAGE_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.usageGrpc}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
        },
      },
      {
        name: 'collector',
        opsPort: await freePort(),
        waitFor: 'healthz',
        env: { HTTP_PORT: String(collectorHttp), GRPC_PORT: String(await freePort()), IDENTITY_GRPC_ADDR: UNRESOLVABLE },
      },
    ]);
  }, 90_000);
  afterAll(() => system?.stop());

  /** The log lines of a service that carry this request id. */
  const logged = (name: 'gateway' | 'collector', requestId: string) =>
    eventually(async () => {
      const lines = readFileSync(serviceOf(system, name).logFile, 'utf8').split('\n').filter((l) => l.includes(requestId));
      return lines.length > 0 ? lines.join('\n') : undefined;
    }, `${name} to log request ${requestId}`, 10_000);

  it('gateway: 503 identity_unavailable, no address or DNS name in the body', async () => {
    const res = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(text).not.toMatch(INTERNALS);
    const error = (JSON.parse(text) as { errors: Array<{ message: string; extensions: { code: string; reason: string; requestId: string } }> }).errors[0];
    expect(error?.extensions).toMatchObject({ code: 'INTERNAL', reason: 'identity_unavailable' });
    expect(error?.message).toMatch(/retry/);
    expect(error?.extensions.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(await logged('gateway', error?.extensions.requestId ?? '?')).toMatch(/rating-worker-grpc/);
  });

  it('collector: 503 identity_unavailable, no address or DNS name in the body', async () => {
    const res = await postEvents(tenant.apiKey, cloudEvent(), 'application/cloudevents+json', collectorUrl);
    expect(res.status).toBe(503);
    expect(JSON.stringify(res.body)).not.toMatch(INTERNALS);
    const error = res.body.error as { code: string; message: string; requestId: string };
    expect(error.code).toBe('identity_unavailable');
    expect(error.message).toMatch(/retry/);
    expect(error.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(await logged('collector', error.requestId)).toMatch(/rating-worker-grpc/);
  });
});
