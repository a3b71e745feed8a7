import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServices, type RunningSystem, type ServiceSpec } from '@polaris/dev/launcher';
import { E2E_PORTS } from './support/ports';
import { createTenant, type Tenant } from './support/tenants';
import { cloudEvent, eventually, postEvents } from './support/http';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const identity = `127.0.0.1:${E2E_PORTS.identityGrpc}`;

/** A loopback port with nothing listening: a dependency that is down. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return `127.0.0.1:${address.port}`;
}

/** Services of their own with one dependency pointed at nothing; alive, rightly not ready. */
async function degraded(specs: ServiceSpec[]): Promise<RunningSystem> {
  return startServices({
    runFrom: 'bundle', // built by the global setup
    repoRoot,
    logDir: join(repoRoot, '.stack', 'logs', 'e2e-dependencies-down'),
    specs: specs.map((s) => ({ ...s, waitFor: 'healthz' })),
  });
}

interface Readiness {
  status: string;
  checks?: Array<{ name: string; ok: boolean; critical: boolean; error?: string }>;
}

async function readyz(opsPort: number): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Readiness };
}

const check = (body: Readiness, name: string) => body.checks?.find((c) => c.name === name);

/** A usage question: with the Usage service down it cannot be answered, whichever meter it names. */
const USAGE = '{ usage(metric: "api_calls", from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { total rows { value } } }';

/** The degraded collector's PUBLISH_TIMEOUT_MS, and how late past it a 503 may come on a loaded machine. */
const BROKERLESS_PUBLISH_TIMEOUT_MS = 2_000;
const DEADLINE_MARGIN_MS = 3_000;

describe('the gateway /readyz asks each gRPC backend (grpc.health.v1)', () => {
  it('with every backend up: ready, each backend named and answering', async () => {
    const ready = await readyz(E2E_PORTS.ops.gateway);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: [
        { name: 'identity', ok: true, critical: true },
        { name: 'usage', ok: true, critical: false },
        { name: 'ingest', ok: true, critical: false },
        { name: 'meters', ok: true, critical: false },
        { name: 'billing', ok: true, critical: false },
        // The per-organization rate limits' Redis: reported, never failing readiness (the limiter
        // fails open for a grace period, then answers 503 itself).
        { name: 'rate-limit-redis', ok: true, critical: false },
      ],
    });
  });
});

describe('a dependency down gets a clear 503, never a 500 or a hang', () => {
  let system: RunningSystem | undefined;
  let tenant: Tenant;

  beforeAll(async () => {
    tenant = await createTenant();
    const ratingWorkerDown = await closedPort();
    system = await degraded([
      {
        name: 'collector',
        opsPort: 19191,
        env: { HTTP_PORT: '18181', GRPC_PORT: '15151', KAFKA_BROKERS: await closedPort(), IDENTITY_GRPC_ADDR: identity, PUBLISH_TIMEOUT_MS: String(BROKERLESS_PUBLISH_TIMEOUT_MS) },
      },
    ]);
    const more = await degraded([
      {
        name: 'collector',
        opsPort: 19195,
        // Broker down and room for one waiting event: the next one is refused at once.
        env: { HTTP_PORT: '18185', GRPC_PORT: '15155', KAFKA_BROKERS: await closedPort(), IDENTITY_GRPC_ADDR: identity, PUBLISH_TIMEOUT_MS: '5000', PUBLISH_MAX_QUEUED: '1' },
      },
      {
        name: 'collector',
        opsPort: 19192,
        env: { HTTP_PORT: '18182', GRPC_PORT: '15152', IDENTITY_GRPC_ADDR: await closedPort() },
      },
      {
        name: 'gateway',
        opsPort: 19193,
        env: { HTTP_PORT: '18183', IDENTITY_GRPC_ADDR: identity, METERS_GRPC_ADDR: identity, USAGE_GRPC_ADDR: await closedPort(), INGEST_GRPC_ADDR: await closedPort() },
      },
      {
        name: 'gateway',
        opsPort: 19194,
        // The rating-worker down: Identity and Meters (it serves both) answer nothing.
        env: {
          HTTP_PORT: '18184',
          IDENTITY_GRPC_ADDR: ratingWorkerDown,
          METERS_GRPC_ADDR: ratingWorkerDown,
          USAGE_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.usageGrpc}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
        },
      },
    ]);
    const first = system;
    system = { services: [...first.services, ...more.services], stop: async () => (await more.stop(), await first.stop()) };
  });
  afterAll(() => system?.stop());

  it('broker down: 503 broker_unavailable within the publish deadline, and not ready, naming the broker', async () => {
    const started = Date.now();
    const res = await postEvents(tenant.apiKey, cloudEvent(), 'application/cloudevents+json', 'http://127.0.0.1:18181');
    const tookMs = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'broker_unavailable' });
    expect((res.body.error as { message: string }).message).toMatch(/retry/);
    // The bound comes from the collector's configuration, with a generous margin for a loaded machine.
    expect(tookMs).toBeLessThan(BROKERLESS_PUBLISH_TIMEOUT_MS + DEADLINE_MARGIN_MS);
    const ready = await fetch('http://127.0.0.1:19191/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/broker/);
  });

  it('identity down: the collector answers 503 identity_unavailable', async () => {
    const res = await postEvents(tenant.apiKey, cloudEvent(), 'application/cloudevents+json', 'http://127.0.0.1:18182');
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'identity_unavailable' });
  });

  it('usage service down: only the field that needs it fails, with 503 usage_unavailable', async () => {
    const url = 'http://127.0.0.1:18183/graphql';
    const headers = { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json', accept: 'application/graphql-response+json' };
    const me = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(me.status).toBe(200);
    const usage = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: USAGE }),
    });
    expect(usage.status).toBe(503);
    const body = (await usage.json()) as { errors: Array<{ extensions: { code: string; reason: string } }> };
    expect(body.errors[0]?.extensions).toMatchObject({ code: 'INTERNAL', reason: 'usage_unavailable' });
  });

  it('identity down: the gateway is not ready, and its /readyz names identity', async () => {
    const ready = await readyz(19194);
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('not_ready');
    expect(check(ready.body, 'identity')).toMatchObject({ ok: false, critical: true, error: expect.stringMatching(/identity/) });
    expect(check(ready.body, 'usage')).toMatchObject({ ok: true, critical: false });
    expect(check(ready.body, 'ingest')).toMatchObject({ ok: true, critical: false });
    expect(check(ready.body, 'meters')).toMatchObject({ ok: false, critical: false, error: expect.stringMatching(/meters/) });
    expect(check(ready.body, 'billing')).toMatchObject({ ok: false, critical: false, error: expect.stringMatching(/billing/) });
  });

  it('usage and ingest down: the gateway stays ready (their fields fail alone) and its /readyz reports them', async () => {
    const ready = await readyz(19193);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(check(ready.body, 'identity')).toMatchObject({ ok: true, critical: true });
    expect(check(ready.body, 'usage')).toMatchObject({ ok: false, critical: false, error: expect.stringMatching(/usage/) });
    expect(check(ready.body, 'ingest')).toMatchObject({ ok: false, critical: false, error: expect.stringMatching(/ingest/) });
    expect(check(ready.body, 'meters')).toMatchObject({ ok: true, critical: false });
  });

  it('broker down and the publish queue full: 503 overloaded at once, not after the publish deadline', async () => {
    const url = 'http://127.0.0.1:18185';
    const waiting = postEvents(tenant.apiKey, cloudEvent(), 'application/cloudevents+json', url);
    const refused = await eventually(async () => {
      const res = await postEvents(tenant.apiKey, cloudEvent(), 'application/cloudevents+json', url);
      return res.status === 503 && (res.body.error as { code: string }).code === 'overloaded' ? res : undefined;
    }, 'a request to be refused as overloaded', 4_000, 50);
    expect((refused.body.error as { message: string }).message).toMatch(/retry/);
    // The event that was waiting still gets its own answer: the broker never came.
    expect((await waiting).body.error).toMatchObject({ code: 'broker_unavailable' });
  });

  it('ingest down: recordEvent answers 503 ingest_unavailable, and me still works', async () => {
    const post = (body: unknown) =>
      fetch('http://127.0.0.1:18183/graphql', {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify(body),
      });
    const res = await post({
      query: 'mutation($input: RecordEventInput!) { recordEvent(input: $input) { accepted } }',
      variables: { input: { id: 'e2e-ingest-down', source: 'e2e', type: 'api.request', subject: 's', data: { n: 1 } } },
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { errors?: Array<{ path?: string[]; extensions: { code: string; reason: string } }> };
    expect(body.errors?.map((e) => [e.path?.[0], e.extensions.code, e.extensions.reason])).toEqual([['recordEvent', 'INTERNAL', 'ingest_unavailable']]);
    const me = (await (await post({ query: '{ me { id } }' })).json()) as { data?: { me?: { id: string } } };
    expect(me.data?.me?.id).toBe(tenant.orgId);
  });

  it('refuses an oversized GraphQL body before reading it, and counts requests by status', async () => {
    const url = 'http://127.0.0.1:18183/graphql';
    const before = await requestCounts(19193);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(300 * 1024)}` }),
    });
    expect(res.status).toBe(413);
    const usage = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: USAGE }),
    });
    expect(usage.status).toBe(503);
    const after = await requestCounts(19193);
    expect((after.get('413') ?? 0) - (before.get('413') ?? 0)).toBe(1);
    expect((after.get('503') ?? 0) - (before.get('503') ?? 0)).toBe(1);
  });
});

/** http_server_request_seconds_count by status, summed over routes and methods, from /metrics. */
async function requestCounts(opsPort: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^http_server_request_seconds_count\{[^}]*status="(\d+)"[^}]*\} (\d+)$/gm)) {
    counts.set(m[1] ?? '', (counts.get(m[1] ?? '') ?? 0) + Number(m[2]));
  }
  return counts;
}
