// Caller tokens against a real grpc-js server on loopback (no stack needed): every refusal the
// server can give, with its status and code, and that a refused call never reaches the handler.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  makeClientConstructor, makeGenericClientConstructor, Metadata, status, type CallOptions, type ClientUnaryCall, type ServerUnaryCall, type ServiceDefinition, type ServiceError,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../service/logger';
import { callUnary, insecureChannel, internalClientOptions } from './client';
import { createInternalAuth, type InternalCaller } from './internal-token';
import { startGrpcServer, type GrpcServer, type GrpcServiceBinding } from './server';

const logger = createLogger('it-internal-auth', 'silent');
const SERVICE = 'polaris.test.Ledger';
const SECRET = randomBytes(32).toString('base64');
const PREVIOUS = randomBytes(32).toString('base64');
const ORG = randomUUID();
const OTHER_ORG = randomUUID();

interface Req {
  organizationId?: string;
}
interface Res {
  organizationId?: string;
  /** Whether the client-side acting-for hint reached the server (it must not). */
  sawActingFor: boolean;
}
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.length ? bytes.toString() : '{"organizationId":""}') as Req,
};
const method = (name: string) => ({
  path: `/${SERVICE}/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as Res,
});
// One org-scoped method, one org-less method.
const definition: ServiceDefinition = { balance: method('Balance'), ping: method('Ping') };

let handled = 0;
const answer = (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
  handled++;
  cb(null, { organizationId: call.request.organizationId, sawActingFor: call.metadata.get('polaris-acting-for').length > 0 });
};
const ledger: GrpcServiceBinding = {
  name: SERVICE,
  definition,
  access: {
    balance: { callers: ['gateway'], organization: 'request' },
    ping: { callers: ['gateway', 'collector'], organization: 'none' },
  },
  implementation: { balance: answer, ping: answer },
};

const Ledger = makeGenericClientConstructor(definition, 'Ledger');
type Rpc = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => ClientUnaryCall;
type LedgerClient = InstanceType<typeof Ledger> & { balance: Rpc; ping: Rpc };

let server: GrpcServer;
let raw: LedgerClient;

beforeAll(async () => {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    auth: createInternalAuth({ INTERNAL_AUTH_SECRET: SECRET, INTERNAL_AUTH_SECRET_PREVIOUS: PREVIOUS }, 'rating-worker'),
    services: [ledger],
  });
  raw = new Ledger(`127.0.0.1:${server.port}`, insecureChannel) as LedgerClient;
});

afterAll(async () => {
  raw?.close();
  await server?.stop(1_000);
});

type Outcome = { ok: true; res: Res } | { ok: false; grpcCode: number; code?: string; field?: string; details: string };

/** One call with exactly the metadata given (no interceptor), and what came back. */
function call(rpc: 'balance' | 'ping', request: Req, token?: string): Promise<Outcome> {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    raw[rpc].call(raw, request, metadata, { deadline: Date.now() + 5_000 }, (err, res) => {
      if (!err) return resolve({ ok: true, res });
      const meta = (key: string) => err.metadata?.get(key)[0]?.toString();
      resolve({ ok: false, grpcCode: err.code, code: meta('polaris-error-code'), field: meta('polaris-error-field'), details: err.details });
    });
  });
}

/** A token made by hand, so each claim can be wrong on purpose. */
function token(opts: { secret?: string; iss?: string; aud?: string; org?: string; iatOffsetS?: number; lifetimeS?: number } = {}): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) + (opts.iatOffsetS ?? 0);
  return new SignJWT(opts.org === undefined ? {} : { org: opts.org })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(opts.iss ?? 'gateway')
    .setAudience(opts.aud ?? SERVICE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (opts.lifetimeS ?? 30))
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

const refused = (grpcCode: number, code: string, field?: string) => expect.objectContaining({ ok: false, grpcCode, code, field });

describe('an internal gRPC server', () => {
  it('answers a call whose token is valid, for the right org, from an allowed caller', async () => {
    expect(await call('balance', { organizationId: ORG }, await token({ org: ORG }))).toMatchObject({ ok: true, res: { organizationId: ORG } });
    expect(await call('ping', {}, await token({ iss: 'collector' }))).toMatchObject({ ok: true });
  });

  it('refuses a call without a token: UNAUTHENTICATED missing_internal_token, naming what to send', async () => {
    const outcome = await call('balance', { organizationId: ORG });
    expect(outcome).toEqual(refused(status.UNAUTHENTICATED, 'missing_internal_token'));
    expect(outcome.ok ? '' : outcome.details).toMatch(/authorization: Bearer/);
    expect(await call('ping', {}, '')).toEqual(refused(status.UNAUTHENTICATED, 'missing_internal_token'));
  });

  it('refuses a token signed with another secret, or not a token at all: UNAUTHENTICATED invalid_internal_token', async () => {
    const wrongSecret = await token({ org: ORG, secret: randomBytes(32).toString('base64') });
    expect(await call('balance', { organizationId: ORG }, wrongSecret)).toEqual(refused(status.UNAUTHENTICATED, 'invalid_internal_token'));
    for (const garbage of ['garbage', 'a.b.c', `${(await token({ org: ORG })).split('.').slice(0, 2).join('.')}.`]) {
      expect(await call('balance', { organizationId: ORG }, garbage), garbage).toEqual(refused(status.UNAUTHENTICATED, 'invalid_internal_token'));
    }
    // alg "none": an unsigned token is no token.
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: 'gateway', aud: SERVICE, org: ORG, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 30, jti: 'x' })).toString('base64url');
    expect(await call('balance', { organizationId: ORG }, `${header}.${payload}.`)).toEqual(refused(status.UNAUTHENTICATED, 'invalid_internal_token'));
  });

  it('refuses an expired token: UNAUTHENTICATED expired_internal_token', async () => {
    const expired = await token({ org: ORG, iatOffsetS: -120, lifetimeS: 30 });
    expect(await call('balance', { organizationId: ORG }, expired)).toEqual(refused(status.UNAUTHENTICATED, 'expired_internal_token'));
  });

  it('refuses a token that claims to live longer than 60 s, even while fresh', async () => {
    const longLived = await token({ org: ORG, lifetimeS: 3_600 });
    expect(await call('balance', { organizationId: ORG }, longLived)).toEqual(refused(status.UNAUTHENTICATED, 'invalid_internal_token'));
  });

  it('refuses a token meant for another service: UNAUTHENTICATED wrong_token_audience', async () => {
    const forUsage = await token({ org: ORG, aud: 'polaris.v1.Usage' });
    expect(await call('balance', { organizationId: ORG }, forUsage)).toEqual(refused(status.UNAUTHENTICATED, 'wrong_token_audience'));
  });

  it('refuses a request for another org than its token: PERMISSION_DENIED organization_mismatch, naming the field', async () => {
    const mine = await token({ org: ORG });
    expect(await call('balance', { organizationId: OTHER_ORG }, mine)).toEqual(refused(status.PERMISSION_DENIED, 'organization_mismatch', 'organization_id'));
    // A token acting for no organization opens no org-scoped method.
    expect(await call('balance', { organizationId: ORG }, await token())).toEqual(refused(status.PERMISSION_DENIED, 'organization_mismatch'));
  });

  it('refuses a caller the method does not list: PERMISSION_DENIED caller_not_allowed', async () => {
    expect(await call('balance', { organizationId: ORG }, await token({ org: ORG, iss: 'collector' }))).toEqual(refused(status.PERMISSION_DENIED, 'caller_not_allowed'));
    // An issuer that is no Polaris service is not a caller at all.
    expect(await call('ping', {}, await token({ iss: 'someone' }))).toEqual(refused(status.UNAUTHENTICATED, 'invalid_internal_token'));
  });

  it('answers a malformed organization id INVALID_ARGUMENT, as the handlers do, once the caller is authenticated', async () => {
    expect(await call('balance', { organizationId: "' OR 1=1 --" }, await token({ org: ORG }))).toEqual(refused(status.INVALID_ARGUMENT, 'invalid_organization_id', 'organization_id'));
  });

  it('never runs the handler for a refused call', async () => {
    const before = handled;
    await call('balance', { organizationId: ORG });
    await call('balance', { organizationId: OTHER_ORG }, await token({ org: ORG }));
    await call('ping', {}, await token({ aud: 'polaris.v1.Usage' }));
    expect(handled).toBe(before);
  });

  it('accepts tokens signed with INTERNAL_AUTH_SECRET_PREVIOUS (rotation), and no other', async () => {
    expect(await call('balance', { organizationId: ORG }, await token({ org: ORG, secret: PREVIOUS }))).toMatchObject({ ok: true });
    const alone = await startGrpcServer({ host: '127.0.0.1', port: 0, logger, auth: createInternalAuth({ INTERNAL_AUTH_SECRET: SECRET }, 'rating-worker'), services: [ledger] });
    const client = new Ledger(`127.0.0.1:${alone.port}`, insecureChannel) as LedgerClient;
    try {
      const outcome = await new Promise<number | null>((resolve) => {
        const md = new Metadata();
        void token({ org: ORG, secret: PREVIOUS }).then((t) => {
          md.set('authorization', `Bearer ${t}`);
          client.balance({ organizationId: ORG }, md, { deadline: Date.now() + 5_000 }, (err) => resolve(err ? err.code : null));
        });
      });
      expect(outcome).toBe(status.UNAUTHENTICATED);
    } finally {
      client.close();
      await alone.stop(1_000);
    }
  });

  it('keeps grpc.health.v1 open: probes carry no token', async () => {
    const HealthClient = makeClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new HealthClient(`127.0.0.1:${server.port}`, insecureChannel) as unknown as {
      check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
      close(): void;
    };
    try {
      const res = await new Promise<{ status: string }>((resolve, reject) => health.check({ service: SERVICE }, (err, r) => (err ? reject(err) : resolve(r))));
      expect(res.status).toBe('SERVING');
    } finally {
      health.close();
    }
  });
});

describe('a client built with internalClientOptions', () => {
  const client = (caller: InternalCaller, secret = SECRET) =>
    new Ledger(`127.0.0.1:${server.port}`, insecureChannel, internalClientOptions(createInternalAuth({ INTERNAL_AUTH_SECRET: secret }, caller))) as LedgerClient;

  it('signs each call for the service called and the org it acts for, which never travels in the clear', async () => {
    const gateway = client('gateway');
    try {
      const res = await callUnary('ledger', gateway.balance.bind(gateway), { organizationId: ORG }, 5_000, { actingFor: ORG });
      expect(res).toEqual({ organizationId: ORG, sawActingFor: false });
      expect(await callUnary('ledger', gateway.ping.bind(gateway), {}, 5_000)).toMatchObject({ sawActingFor: false });
    } finally {
      gateway.close();
    }
  });

  it('reports a refusal as an internal error of this deployment, with the refusal code, not as the user\'s 401/403', async () => {
    const gateway = client('gateway');
    const stranger = client('gateway', randomBytes(32).toString('base64'));
    try {
      await expect(callUnary('ledger', gateway.balance.bind(gateway), { organizationId: OTHER_ORG }, 5_000, { actingFor: ORG })).rejects.toMatchObject({
        kind: 'internal',
        code: 'organization_mismatch',
      });
      await expect(callUnary('ledger', stranger.ping.bind(stranger), {}, 5_000)).rejects.toMatchObject({ kind: 'internal', code: 'invalid_internal_token' });
    } finally {
      gateway.close();
      stranger.close();
    }
  });
});

describe('startGrpcServer', () => {
  const auth = createInternalAuth({ INTERNAL_AUTH_SECRET: SECRET }, 'rating-worker');

  it('refuses to start a service with a method that has no access rule, or a rule for no method', async () => {
    await expect(startGrpcServer({ host: '127.0.0.1', port: 0, logger, auth, services: [{ ...ledger, access: { balance: ledger.access.balance } as never }] })).rejects.toThrow(
      /polaris\.test\.Ledger: ping has no access rule/,
    );
    await expect(
      startGrpcServer({ host: '127.0.0.1', port: 0, logger, auth, services: [{ ...ledger, access: { ...ledger.access, refund: { callers: ['gateway'], organization: 'none' } } }] }),
    ).rejects.toThrow(/access names refund, which the service does not have/);
  });
});
