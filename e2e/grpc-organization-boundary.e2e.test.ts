import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdentityClient, IngestClient, MetersClient, UsageClient, WindowSize } from '@polaris/proto';
import type { InternalCaller } from '@polaris/shared/grpc';
import { callerMetadata } from './support/internal-token';
import { createMeter, METER_SCOPES } from './support/meters';
import { E2E_PORTS, gatewayUrl } from './support/ports';
import { createTenant, type Tenant } from './support/tenants';

// The internal RPCs are reachable only with a caller token (docs/ARCHITECTURE.md, Tenancy): a
// call without one, or acting for another organization than the one it asks about, is refused
// before any store is read. And every RPC that takes an organization id checks it at the
// boundary: a malformed id is a caller bug and must fail loudly (INVALID_ARGUMENT, code
// invalid_organization_id), never reach a query as an empty or injected tenant.

const DEADLINE_MS = 10_000;
const BAD_IDS = ['', 'not-a-uuid', "' OR 1=1 --", '00000000-0000-0000-0000-00000000000g', ' 0f0e0d0c-0b0a-4908-8706-050403020100'];

type Outcome = { grpcCode: number; code?: string; field?: string } | 'ok';

/** How the caller authenticates: no token at all, or a token minted for it. */
type As = 'anonymous' | { caller?: InternalCaller; actingFor?: string };

async function call<Req>(client: Client, method: string, request: Req, as: As): Promise<Outcome> {
  const rpc = (client as unknown as Record<string, (r: Req, m: Metadata, o: { deadline: number }, cb: (e: ServiceError | null) => void) => void>)[method];
  if (!rpc) throw new Error(`no method ${method}`);
  const serviceName = (client.constructor as unknown as { serviceName: string }).serviceName;
  const metadata = as === 'anonymous' ? new Metadata() : await callerMetadata(serviceName, as);
  return new Promise<Outcome>((resolve) => {
    rpc.call(client, request, metadata, { deadline: Date.now() + DEADLINE_MS }, (err) => {
      if (!err) return resolve('ok');
      const meta = (key: string) => err.metadata?.get(key)[0]?.toString();
      resolve({ grpcCode: err.code, code: meta('polaris-error-code'), field: meta('polaris-error-field') });
    });
  }).finally(() => client.close());
}

const insecure = credentials.createInsecure();
const at = (port: number) => `127.0.0.1:${port}`;

/** The meter the victim has, so that a call acting for it is answered. */
const METER = 'api_calls';

/** The organization-scoped RPCs, each as the gateway makes it. */
const rpcs: Array<[string, (organizationId: string, as: As) => Promise<Outcome>]> = [
  ['Identity.GetOrganization', (organizationId, as) => call(new IdentityClient(at(E2E_PORTS.identityGrpc), insecure), 'getOrganization', { organizationId }, as)],
  [
    'Usage.QueryMeter',
    (organizationId, as) =>
      call(
        new UsageClient(at(E2E_PORTS.usageGrpc), insecure),
        'queryMeter',
        {
          organizationId,
          meterSlug: METER,
          from: new Date('2026-01-01T00:00:00Z'),
          to: new Date('2026-01-02T00:00:00Z'),
          windowSize: WindowSize.WINDOW_SIZE_UNSPECIFIED,
          windowTimeZone: 'UTC',
          groupBy: [],
          subjects: [],
          dimensionFilters: [],
        },
        as,
      ),
  ],
  ['Meters.GetMeter', (organizationId, as) => call(new MetersClient(at(E2E_PORTS.identityGrpc), insecure), 'getMeter', { organizationId, slug: METER }, as)],
  [
    'Ingest.Publish',
    (organizationId, as) =>
      call(
        new IngestClient(at(E2E_PORTS.ingestGrpc), insecure),
        'publish',
        { organizationId, events: [{ id: `boundary-${randomUUID()}`, source: 'e2e', type: 'api.request', subject: 's', data: { n: 1 } }] },
        as,
      ),
  ],
];

let victim: Tenant;
beforeAll(async () => {
  victim = await createTenant(METER_SCOPES);
  await createMeter(gatewayUrl, victim.apiKey, { slug: METER, name: 'API calls', eventType: 'api.request', aggregation: 'COUNT' });
});

describe('the internal RPCs take only authenticated calls', () => {
  it.each(rpcs)('%s answers its own organization to the gateway acting for it', async (_name, rpc) => {
    expect(await rpc(victim.orgId, { actingFor: victim.orgId })).toBe('ok');
  });

  it.each(rpcs)('%s refuses a call without a token: UNAUTHENTICATED', async (_name, rpc) => {
    expect(await rpc(victim.orgId, 'anonymous')).toEqual({ grpcCode: status.UNAUTHENTICATED, code: 'missing_internal_token' });
  });

  it('Identity.ValidateApiKey refuses a call without a token too: no key oracle for anyone on the network', async () => {
    const validate = (as: As) => call(new IdentityClient(at(E2E_PORTS.identityGrpc), insecure), 'validateApiKey', { apiKey: victim.apiKey }, as);
    expect(await validate('anonymous')).toEqual({ grpcCode: status.UNAUTHENTICATED, code: 'missing_internal_token' });
    expect(await validate({ caller: 'collector' })).toBe('ok');
  });

  it.each(rpcs)('%s refuses a token acting for another organization: PERMISSION_DENIED', async (_name, rpc) => {
    const intruder = randomUUID();
    expect(await rpc(victim.orgId, { actingFor: intruder })).toEqual({ grpcCode: status.PERMISSION_DENIED, code: 'organization_mismatch', field: 'organization_id' });
    expect(await rpc(victim.orgId, {})).toEqual({ grpcCode: status.PERMISSION_DENIED, code: 'organization_mismatch' });
  });

  it.each(rpcs.filter(([name]) => name !== 'Ingest.Publish'))('%s refuses a service that has no business calling it (the collector): PERMISSION_DENIED', async (_name, rpc) => {
    expect(await rpc(victim.orgId, { caller: 'collector', actingFor: victim.orgId })).toEqual({ grpcCode: status.PERMISSION_DENIED, code: 'caller_not_allowed' });
  });
});

describe('the organization id is checked on every internal RPC that takes one', () => {
  it.each(rpcs)('%s refuses a malformed organization id, naming the field', async (_name, rpc) => {
    for (const bad of BAD_IDS) {
      expect(await rpc(bad, { actingFor: victim.orgId }), JSON.stringify(bad)).toEqual({ grpcCode: 3, code: 'invalid_organization_id', field: 'organization_id' });
    }
  });
});
