import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { Aggregation, IdentityClient, IngestClient, UsageClient, WindowSize } from '@polaris/proto';
import { E2E_PORTS } from './support/ports';

// Every internal RPC that takes an organization id checks it at the boundary: a malformed id is
// a caller bug and must fail loudly (INVALID_ARGUMENT, code invalid_organization_id), never
// reach a query as an empty or injected tenant.

const DEADLINE_MS = 10_000;
const BAD_IDS = ['', 'not-a-uuid', "' OR 1=1 --", '00000000-0000-0000-0000-00000000000g', ' 0f0e0d0c-0b0a-4908-8706-050403020100'];

type Outcome = { grpcCode: number; code?: string; field?: string } | 'ok';

function call<Req>(client: Client, method: string, request: Req): Promise<Outcome> {
  const rpc = (client as unknown as Record<string, (r: Req, m: Metadata, o: { deadline: number }, cb: (e: ServiceError | null) => void) => void>)[method];
  if (!rpc) throw new Error(`no method ${method}`);
  return new Promise<Outcome>((resolve) => {
    rpc.call(client, request, new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err) => {
      if (!err) return resolve('ok');
      const meta = (key: string) => err.metadata?.get(key)[0]?.toString();
      resolve({ grpcCode: err.code, code: meta('polaris-error-code'), field: meta('polaris-error-field') });
    });
  }).finally(() => client.close());
}

const insecure = credentials.createInsecure();
const at = (port: number) => `127.0.0.1:${port}`;

const rpcs: Array<[string, (organizationId: string) => Promise<Outcome>]> = [
  ['Identity.GetOrganization', (organizationId) => call(new IdentityClient(at(E2E_PORTS.identityGrpc), insecure), 'getOrganization', { organizationId })],
  [
    'Usage.Query',
    (organizationId) =>
      call(new UsageClient(at(E2E_PORTS.usageGrpc), insecure), 'query', {
        organizationId,
        eventType: 'api.request',
        from: new Date('2026-01-01T00:00:00Z'),
        to: new Date('2026-01-02T00:00:00Z'),
        windowSize: WindowSize.WINDOW_SIZE_UNSPECIFIED,
        aggregation: Aggregation.AGGREGATION_COUNT,
        valueProperty: '',
        subjects: [],
        groupBySubject: false,
      }),
  ],
  [
    'Ingest.Publish',
    (organizationId) =>
      call(new IngestClient(at(E2E_PORTS.ingestGrpc), insecure), 'publish', {
        organizationId,
        events: [{ id: 'boundary-1', source: 'e2e', type: 'api.request', subject: 's', data: { n: 1 } }],
      }),
  ],
];

describe('the organization id is checked on every internal RPC that takes one', () => {
  it.each(rpcs)('%s refuses a malformed organization id, naming the field', async (_name, rpc) => {
    for (const bad of BAD_IDS) {
      expect(await rpc(bad), JSON.stringify(bad)).toEqual({ grpcCode: 3, code: 'invalid_organization_id', field: 'organization_id' });
    }
  });
});
