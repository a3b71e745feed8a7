import { randomBytes, randomUUID } from 'node:crypto';
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomersService, type Customer } from '@polaris/proto';
import { callUnary, createInternalAuth, startGrpcServer, type GrpcServer, type MethodAccess } from '@polaris/shared/grpc';
import { createLogger } from '@polaris/shared/service';
import { connectBackends } from './backends';

// The gateway's backend clients against a real gRPC server (loopback, no stack): what every call
// carries (a deadline, the org inside the signed token) and which calls are retried when the
// first attempt fails UNAVAILABLE, as a call does when its pod goes away mid-call.

const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
const ORG = randomUUID();
const DEADLINE_MS = 3_000;

interface Seen {
  method: string;
  /** Milliseconds from the call's arrival to its deadline; Infinity when it has none. */
  deadlineInMs: number;
  /** The `org` claim of the call's token. */
  org: string | undefined;
}

let server: GrpcServer;
let backends: ReturnType<typeof connectBackends>;
const seen: Seen[] = [];
const attempts = new Map<string, number>();

const customer = (id: string): Customer => ({
  id, organizationId: ORG, externalId: id, name: id, email: '', currency: 'USD', timeZone: 'UTC', subjects: [], status: 'active',
  createdAt: new Date(0), updatedAt: new Date(0),
});

/** A handler whose first attempt fails UNAVAILABLE and whose next ones answer `answer`. */
function flakyOnce<Req>(method: string, answer: (req: Req) => unknown) {
  return (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>) => {
    const deadline = call.getDeadline();
    const token = call.metadata.get('authorization')[0]?.toString().replace(/^Bearer /, '') ?? '';
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}') as { org?: string };
    seen.push({ method, deadlineInMs: (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now(), org: claims.org });
    const n = (attempts.get(method) ?? 0) + 1;
    attempts.set(method, n);
    if (n === 1) callback({ code: status.UNAVAILABLE, details: 'connection dropped' });
    else callback(null, answer(call.request));
  };
}

beforeAll(async () => {
  const tenant: MethodAccess = { callers: ['gateway'], organization: 'request' };
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('it-gateway-backends', 'silent'),
    auth: createInternalAuth(secret, 'rating-worker'),
    services: [
      {
        name: 'polaris.v1.Customers',
        definition: CustomersService,
        access: Object.fromEntries(Object.keys(CustomersService).map((m) => [m, tenant])),
        implementation: {
          getCustomer: flakyOnce<{ customerId: string }>('GetCustomer', (req) => customer(req.customerId)),
          batchGetCustomers: flakyOnce<{ customerIds: string[] }>('BatchGetCustomers', (req) => ({ customers: req.customerIds.map(customer) })),
          createCustomer: flakyOnce<{ externalId: string }>('CreateCustomer', (req) => customer(req.externalId)),
        },
      },
    ],
  });
  const addr = `127.0.0.1:${server.port}`;
  backends = connectBackends({ identity: addr, usage: addr, ingest: addr, meters: addr, billing: addr }, createInternalAuth(secret, 'gateway'));
});
afterAll(async () => {
  backends?.close();
  await server?.stop(1_000);
});

describe('gateway → backend calls', () => {
  it('a read that fails UNAVAILABLE once is retried, and answered; each attempt has the deadline and the org in its token', async () => {
    const { customers } = backends;
    const got = await callUnary('billing', customers.getCustomer.bind(customers), { organizationId: ORG, customerId: 'c1', externalId: '' }, DEADLINE_MS, { actingFor: ORG });
    expect(got.id).toBe('c1');
    const batch = await callUnary('billing', customers.batchGetCustomers.bind(customers), { organizationId: ORG, customerIds: ['c1', 'c2'] }, DEADLINE_MS, { actingFor: ORG });
    expect(batch.customers.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(attempts.get('GetCustomer')).toBe(2);
    expect(attempts.get('BatchGetCustomers')).toBe(2);
    for (const call of seen) {
      expect(call.org).toBe(ORG);
      expect(call.deadlineInMs).toBeGreaterThan(0);
      expect(call.deadlineInMs).toBeLessThanOrEqual(DEADLINE_MS);
    }
  });

  it('a mutation that fails UNAVAILABLE is never sent again: the caller gets the failure', async () => {
    const { customers } = backends;
    const request = { organizationId: ORG, externalId: 'c3', name: 'c3', email: '', currency: 'USD', timeZone: 'UTC', subjects: [] };
    await expect(callUnary('billing', customers.createCustomer.bind(customers), request, DEADLINE_MS, { actingFor: ORG })).rejects.toMatchObject({ kind: 'unavailable' });
    expect(attempts.get('CreateCustomer')).toBe(1);
  });
});
