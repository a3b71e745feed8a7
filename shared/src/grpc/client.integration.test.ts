// The shared channel options against real grpc-js servers on loopback (no stack needed): the
// `dns:///host:port` targets Kubernetes uses, round_robin over several addresses, and calls that
// keep succeeding while servers recycle connections (max connection age).
import {
  status as GrpcStatus, makeGenericClientConstructor, type CallOptions, type ClientUnaryCall, type Metadata, type sendUnaryData, type ServerUnaryCall,
  type ServiceDefinition, type ServiceError,
} from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../service/logger';
import { callUnary, channelOptions, idempotentReadClientOptions, insecureChannel, internalClientOptions } from './client';
import { createInternalAuth } from './internal-token';
import { startGrpcServer, type GrpcServer } from './server';
import { eventually } from '../testing/eventually';

const logger = createLogger('it-grpc-client', 'silent');
const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
const serverAuth = createInternalAuth(secret, 'sink-worker');
const clientAuth = createInternalAuth(secret, 'gateway');

interface Who {
  backend: string;
  /** The client's address as the server sees it: a new one per connection. */
  peer: string;
}
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as Who,
};
// A one-method service whose answer names the server that handled the call, and the connection.
const whoDefinition: ServiceDefinition = {
  whoAmI: {
    path: '/polaris.test.Who/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};
const WhoClient = makeGenericClientConstructor(whoDefinition, 'Who');
type WhoClient = InstanceType<typeof WhoClient> & {
  whoAmI: (req: object, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Who) => void) => ClientUnaryCall;
};

const servers: GrpcServer[] = [];
const clients: WhoClient[] = [];

async function serve(host: string, port: number, backend: string, maxConnectionAgeMs?: number): Promise<GrpcServer> {
  const server = await startGrpcServer({
    host,
    port,
    logger,
    maxConnectionAgeMs,
    auth: serverAuth,
    services: [
      {
        name: 'polaris.test.Who',
        definition: whoDefinition,
        access: { whoAmI: { callers: ['gateway'], organization: 'none' } },
        implementation: { whoAmI: (call: ServerUnaryCall<object, Who>, cb: sendUnaryData<Who>) => cb(null, { backend, peer: call.getPeer() }) },
      },
    ],
  });
  servers.push(server);
  return server;
}

function connect(target: string, options: object = internalClientOptions(clientAuth)): WhoClient {
  const client = new WhoClient(target, insecureChannel, options) as WhoClient;
  clients.push(client);
  return client;
}

function whoAmI(client: WhoClient): Promise<Who> {
  return callUnary('who', client.whoAmI.bind(client), {}, 2_000);
}

async function tally(client: WhoClient, calls: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < calls; i++) {
    const { backend } = await whoAmI(client);
    seen[backend] = (seen[backend] ?? 0) + 1;
  }
  return seen;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((s) => s.stop(1_000)));
});

describe('internal gRPC channels', () => {
  it('select round_robin in their service config', () => {
    expect(JSON.parse(channelOptions['grpc.service_config'])).toEqual({ loadBalancingConfig: [{ round_robin: {} }] });
  });

  it('reach a dns:///host:port target (the Kubernetes address form)', async () => {
    const server = await serve('127.0.0.1', 0, 'only');
    expect((await whoAmI(connect(`dns:///localhost:${server.port}`))).backend).toBe('only');
  });

  it('spread calls over every resolved address, where the default would stick to one', async (ctx) => {
    const first = await serve('127.0.0.1', 0, 'a');
    // Two backends on one port need two loopback addresses; macOS has only 127.0.0.1 by default.
    const second = await serve('127.0.0.2', first.port, 'b').catch(() => null);
    // Linux (CI included) routes all of 127/8 to loopback: there the test must run, never skip.
    if (!second && process.platform !== 'linux') ctx.skip();
    expect(second, 'binding 127.0.0.2').not.toBeNull();
    const target = `ipv4:127.0.0.1:${first.port},127.0.0.2:${first.port}`;

    const spread = connect(target);
    // The channel is ready with its first connection; let the second one come up.
    await eventually(async () => (Object.keys(await tally(spread, 2)).length === 2 ? true : undefined), 'the second backend to join', 5_000, 20);
    const seen = await tally(spread, 10);
    expect(seen.a, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    expect(seen.b, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);

    const { 'grpc.service_config': _roundRobin, ...pickFirst } = internalClientOptions(clientAuth);
    expect(Object.keys(await tally(connect(target, pickFirst), 10))).toHaveLength(1);
  });

  it('keep answering while the server recycles their connections', async () => {
    const server = await serve('127.0.0.1', 0, 'recycling', 100);
    const client = connect(`dns:///localhost:${server.port}`);
    // Counted, not timed: call until the connection has been replaced twice, or give up after
    // far more calls than that needs (a connection lives 100 ms; a call takes well under 1 ms).
    const MAX_CALLS = 50_000;
    const peers = new Set<string>();
    let calls = 0;
    const done = () => (peers.size > 2 && calls > 100) || calls >= MAX_CALLS;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, async () => {
        while (!done()) {
          peers.add((await whoAmI(client)).peer);
          calls++;
        }
      }),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(calls).toBeGreaterThan(100);
    // The connection was replaced (and the target re-resolved) several times along the way.
    expect(peers.size).toBeGreaterThan(2);
  });
});

describe('idempotentReadClientOptions', () => {
  // A server whose first call fails UNAVAILABLE, as a call does when its connection is dropped.
  async function flakyOnce(): Promise<{ port: number; calls: () => number }> {
    let calls = 0;
    const server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      auth: serverAuth,
      services: [
        {
          name: 'polaris.test.Who',
          definition: whoDefinition,
          access: { whoAmI: { callers: ['gateway'], organization: 'none' } },
          implementation: {
            whoAmI: (call: ServerUnaryCall<object, Who>, cb: sendUnaryData<Who>) => {
              calls += 1;
              if (calls === 1) cb({ code: GrpcStatus.UNAVAILABLE, details: 'connection dropped' });
              else cb(null, { backend: 'flaky', peer: call.getPeer() });
            },
          },
        },
      ],
    });
    servers.push(server);
    return { port: server.port, calls: () => calls };
  }

  it('retries a read once after UNAVAILABLE, where the plain options fail', async () => {
    const retried = await flakyOnce();
    await expect(whoAmI(connect(`127.0.0.1:${retried.port}`, idempotentReadClientOptions(clientAuth, 'polaris.test.Who')))).resolves.toMatchObject({ backend: 'flaky' });
    expect(retried.calls()).toBe(2);

    const plain = await flakyOnce();
    await expect(whoAmI(connect(`127.0.0.1:${plain.port}`))).rejects.toMatchObject({ kind: 'unavailable' });
    expect(plain.calls()).toBe(1);
  });
});
