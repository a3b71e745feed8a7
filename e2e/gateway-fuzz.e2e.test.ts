import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSystem } from '@polaris/dev/launcher';
import { gatewayFuzzRequests, type GatewayFuzzRequest } from './support/gateway-fuzz-inputs';
import { E2E_PORTS } from './support/ports';
import { freePort, hasExited, serviceOf, startPrivate } from './support/private-services';
import { createTenant, type Tenant } from './support/tenants';

// Hostile GraphQL at a private gateway (over the suite's real backends): random tokens, deep
// nesting, huge strings, unicode, wrong types, unknown fields, variables of the wrong type, batched
// arrays, invalid JSON, odd content types, GET. Every answer must be a client error or a success:
// no 5xx, no INTERNAL error, and the same gateway process answering afterwards.

/** Fixed so a failure reproduces; GATEWAY_FUZZ_SEED=<n> GATEWAY_FUZZ_REQUESTS=<n> explore further. */
const SEED = Number(process.env.GATEWAY_FUZZ_SEED ?? 0x9a7e2026);
const REQUESTS = Number(process.env.GATEWAY_FUZZ_REQUESTS ?? 3_000);
const IN_FLIGHT = 16;
const TIME_BUDGET_MS = 60_000;

interface Answer {
  request: GatewayFuzzRequest;
  index: number;
  status: number;
  text: string;
}

/** Every `extensions.code` in a JSON answer, wherever it sits (a single result or a batch). */
function codesOf(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    const results = Array.isArray(parsed) ? parsed : [parsed];
    return results.flatMap((r) => ((r as { errors?: Array<{ extensions?: { code?: string } }> } | null)?.errors ?? []).map((e) => e.extensions?.code ?? '(none)'));
  } catch {
    return [];
  }
}

describe('fuzzing the gateway', () => {
  let system: RunningSystem | undefined;
  let tenant: Tenant;
  let url: string;
  let opsPort: number;

  beforeAll(async () => {
    tenant = await createTenant(['events:write', 'usage:read', 'meters:write', 'billing:read', 'billing:write']);
    const httpPort = await freePort();
    opsPort = await freePort();
    url = `http://127.0.0.1:${httpPort}/graphql`;
    system = await startPrivate('gateway-fuzz', [
      {
        name: 'gateway',
        opsPort,
        env: {
          HTTP_PORT: String(httpPort),
          IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          METERS_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
          USAGE_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.usageGrpc}`,
          INGEST_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.ingestGrpc}`,
        },
      },
    ]);
  });
  afterAll(() => system?.stop());

  async function send(request: GatewayFuzzRequest, index: number): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/graphql-response+json, application/json' };
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    if (request.key === 'valid') headers.authorization = `Bearer ${tenant.apiKey}`;
    if (request.key === 'forged') headers.authorization = 'Bearer pol_deadbeef_notarealkeyatall0000000000000';
    try {
      const target = request.method === 'GET' ? `${url}?${request.search ?? ''}` : url;
      const res = await fetch(target, { method: request.method, headers, body: request.body, signal: AbortSignal.timeout(20_000) });
      return { request, index, status: res.status, text: await res.text() };
    } catch (err) {
      // A reset connection or a timeout is as bad as a 5xx.
      return { request, index, status: 599, text: `no answer: ${String(err)}` };
    }
  }

  it(`answers ${REQUESTS} hostile requests with no 5xx and no INTERNAL error, and keeps running`, async () => {
    const gateway = serviceOf(system, 'gateway');
    const pid = gateway.pid;
    const requests = gatewayFuzzRequests(SEED, REQUESTS);
    console.log(`gateway fuzz: seed=${SEED} (GATEWAY_FUZZ_SEED to reproduce), ${requests.length} requests, ${IN_FLIGHT} in flight`);
    const started = Date.now();
    const answers: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < requests.length) {
          const index = next++;
          answers.push(await send(requests[index] as GatewayFuzzRequest, index));
        }
      }),
    );
    const elapsed = Date.now() - started;
    const byKind = new Map<string, Map<number, number>>();
    for (const a of answers) {
      const statuses = byKind.get(a.request.kind) ?? new Map<number, number>();
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      byKind.set(a.request.kind, statuses);
    }
    console.log(`gateway fuzz: ${answers.length} answers in ${elapsed} ms;`, [...byKind].map(([k, s]) => `${k} ${JSON.stringify(Object.fromEntries(s))}`).join('; '));

    const show = (a: Answer) =>
      `#${a.index} ${a.request.kind} ${a.request.method} [${a.request.contentType}] → ${a.status} ${a.text.slice(0, 300)}\n  sent: ${(a.request.body ?? a.request.search ?? '').slice(0, 300)}`;
    const serverErrors = answers.filter((a) => a.status >= 500);
    expect(serverErrors.length, `5xx answers (seed ${SEED}); first: ${serverErrors[0] ? show(serverErrors[0]) : ''}`).toBe(0);
    const internal = answers.filter((a) => codesOf(a.text).includes('INTERNAL'));
    expect(internal.length, `INTERNAL errors (seed ${SEED}); first: ${internal[0] ? show(internal[0]) : ''}`).toBe(0);
    expect(elapsed).toBeLessThan(TIME_BUDGET_MS);

    // The same process, alive and answering.
    expect(hasExited(gateway)).toBe(false);
    expect(gateway.pid).toBe(pid);
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
    const me = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(((await me.json()) as { data?: { me?: { id?: string } } }).data?.me?.id).toBe(tenant.orgId);
  }, 120_000);
});
