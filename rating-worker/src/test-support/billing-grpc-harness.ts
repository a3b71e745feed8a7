import { randomBytes } from 'node:crypto';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { organizations } from '@polaris/postgres';
import { throwawayPostgres, type ThrowawayPostgres } from '@polaris/postgres/testing';
import {
  callUnary, createInternalAuth, createUnaryWrapper, insecureChannel, internalClientOptions, startGrpcServer, type GrpcServer, type GrpcServiceBinding,
  type InternalCaller, type UnaryWrapper,
} from '@polaris/shared/grpc';
import { createLogger, createMetricsRegistry } from '@polaris/shared/service';

// The billing catalog's gRPC services over a real server and a PostgreSQL database of their own,
// with two organizations and clients that sign as any caller (integration tests only).

type Method<Req, Res> = Parameters<typeof callUnary<Req, Res>>[1];
interface Closable {
  close(): void;
}
type ClientClass<C> = new (address: string, credentials: typeof insecureChannel, options: object) => C;

export interface BillingGrpcHarness {
  db: ThrowawayPostgres;
  orgA: string;
  orgB: string;
  /** A client of the server signing as `caller`. */
  client<C extends Closable>(Class: ClientClass<C>, caller?: InternalCaller): C;
  /** A call acting for `actingFor`, as the gateway makes it for the org of a validated key. */
  call<Req, Res>(method: Method<Req, Res>, req: Req, actingFor: string): Promise<Res>;
  /**
   * The raw gRPC outcome of a call (status and error metadata), for what callUnary reports as
   * this service's own fault: a refused caller or organization.
   */
  outcome<C extends Closable, Req>(Class: ClientClass<C>, method: string, req: Req, as: { caller?: InternalCaller; actingFor?: string }): Promise<Outcome>;
  stop(): Promise<void>;
}

export type Outcome = 'ok' | { grpcCode: number; code?: string; field?: string };

export async function startBillingGrpc(services: (pool: ThrowawayPostgres['pool'], unary: UnaryWrapper) => GrpcServiceBinding[]): Promise<BillingGrpcHarness> {
  const secret = { INTERNAL_AUTH_SECRET: randomBytes(32).toString('base64') };
  const logger = createLogger('it-billing', 'silent');
  const db = await throwawayPostgres();
  const orgA = (await organizations.create(db.pool, { name: 'Org A', slug: `a-${randomBytes(3).toString('hex')}` })).id;
  const orgB = (await organizations.create(db.pool, { name: 'Org B', slug: `b-${randomBytes(3).toString('hex')}` })).id;
  const unary = createUnaryWrapper(logger, createMetricsRegistry('it'));
  const server: GrpcServer = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    // As the service runs: the app role, under row-level security (fixtures use the owner's db.pool).
    services: services(db.appPool, unary),
    auth: createInternalAuth(secret, 'rating-worker'),
    logger,
  });
  const clients: Closable[] = [];
  return {
    db,
    orgA,
    orgB,
    client(Class, caller = 'gateway') {
      const client = new Class(`127.0.0.1:${server.port}`, insecureChannel, internalClientOptions(createInternalAuth(secret, caller)));
      clients.push(client);
      return client;
    },
    call: (method, req, actingFor) => callUnary('rating-worker', method, req, 5_000, { actingFor }),
    async outcome(Class, method, req, as) {
      // No token interceptor: the call carries exactly the token minted here.
      const client = new Class(`127.0.0.1:${server.port}`, insecureChannel, {});
      clients.push(client);
      const rpc = (client as unknown as Record<string, (r: unknown, m: Metadata, o: { deadline: number }, cb: (e: ServiceError | null) => void) => void>)[method];
      if (!rpc) throw new Error(`no method ${method}`);
      const service = (client.constructor as unknown as { serviceName: string }).serviceName;
      const token = await createInternalAuth(secret, as.caller ?? 'gateway').mint(service, as.actingFor);
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return new Promise<Outcome>((resolve) => {
        rpc.call(client, req, metadata, { deadline: Date.now() + 5_000 }, (err) => {
          if (!err) return resolve('ok');
          const meta = (key: string) => err.metadata?.get(key)[0]?.toString();
          resolve({ grpcCode: err.code, code: meta('polaris-error-code'), field: meta('polaris-error-field') });
        });
      });
    },
    async stop() {
      for (const client of clients) client.close();
      await server.stop(1_000);
      await db.drop();
    },
  };
}

export { rejection } from './rejection';
