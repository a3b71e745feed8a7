import {
  Server, ServerCredentials, type MethodDefinition, type ServiceDefinition, type UntypedServiceImplementation, type handleUnaryCall,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from '../service/logger';
import { asPolarisError, PolarisError } from '../errors';
import { authorizeCall, checkAccessCoversService, type ServiceAccess } from './access-policy';
import type { CallerClaims, InternalAuth, InternalCaller } from './internal-token';
import { toServiceError } from './status';
import { metadataGetter } from './trace-metadata';

export interface GrpcServer {
  readonly port: number;
  stop(deadlineMs: number): Promise<void>;
}

export interface GrpcServiceBinding {
  /** Full service name, e.g. "polaris.v1.Identity", as reported by grpc.health.v1. */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
  /**
   * Who may call each method, and whether it acts for the request's organization. Every method
   * needs a rule (the server refuses to start otherwise); the server checks the caller's token
   * against it before the handler runs (docs/ARCHITECTURE.md, Tenancy).
   */
  access: ServiceAccess;
  /**
   * The answer when a request nests too deeply to decode (ts-proto stops at 100 nested messages,
   * i.e. a google.protobuf.Struct about 33 objects deep), so it can name the nesting field.
   */
  tooDeep?: PolarisError;
}

/**
 * What a handler receives instead of a request whose bytes could not be decoded. grpc-js would
 * answer INTERNAL for a throwing deserializer, but bad bytes are the caller's fault: the unary
 * wrapper turns this into INVALID_ARGUMENT.
 */
class UndecodableRequest {
  constructor(readonly error: PolarisError) {}
}

function isTooDeep(err: unknown): boolean {
  // ts-proto's guard and the wire reader's ("maximum recursion depth"), or a stack overflow from
  // a decoder without one. Not every RangeError: "premature EOF" is one too.
  return err instanceof Error && /recursion limit|recursion depth|maximum call stack/i.test(err.message);
}

function withTolerantDecoding(binding: GrpcServiceBinding): ServiceDefinition {
  const methods = Object.entries(binding.definition as Record<string, MethodDefinition<unknown, unknown>>);
  return Object.fromEntries(
    methods.map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return method.requestDeserialize(bytes);
          } catch (err) {
            const reason = err instanceof Error ? err.message : String(err);
            return new UndecodableRequest(
              isTooDeep(err) && binding.tooDeep
                ? binding.tooDeep
                : new PolarisError('invalid_argument', 'undecodable_request', `the request could not be decoded: ${reason}`),
            );
          }
        },
      },
    ]),
  );
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The verified caller of each call in flight, for the handler's RpcContext (its `caller`). */
const verifiedCallers = new WeakMap<object, InternalCaller>();

/**
 * The binding's handlers behind its access rules: each call's token is verified (audience = the
 * service) and checked against the method's rule before the handler runs. A refusal is answered
 * here, UNAUTHENTICATED or PERMISSION_DENIED with its code, and logged with the reason for the
 * operator; the handler never sees the call. grpc.health.v1 is not a binding: it stays open.
 */
function withAccessChecks(binding: GrpcServiceBinding, auth: InternalAuth, logger: Logger): UntypedServiceImplementation {
  const methods = Object.entries(binding.definition as Record<string, MethodDefinition<unknown, unknown>>);
  return Object.fromEntries(
    methods.flatMap(([name, method]) => {
      const handler = binding.implementation[name] as handleUnaryCall<unknown, unknown> | undefined;
      const rule = binding.access[name];
      // No handler: grpc-js answers UNIMPLEMENTED. No rule: checkAccessCoversService refused to start.
      if (!handler || !rule) return [];
      const rpc = method.path.replace(/^\//, '');
      const guarded: handleUnaryCall<unknown, unknown> = (call, callback) => {
        let claims: CallerClaims | undefined;
        const check = async () => {
          const token = BEARER.exec(call.metadata.get('authorization')[0]?.toString() ?? '')?.[1];
          claims = await auth.verify(token, binding.name);
          // Bytes that did not decode have no organization to compare; the handler answers for them.
          authorizeCall(call.request instanceof UndecodableRequest ? { ...rule, organization: 'none' } : rule, rpc, claims, call.request);
        };
        check()
          .then(
            () => {
              if (claims) verifiedCallers.set(call, claims.caller);
              handler(call, callback);
            },
            (err: unknown) => {
              const perr = asPolarisError(err);
              logger.warn({ method: rpc, code: perr.code, caller: claims?.caller, tokenId: claims?.tokenId, reason: perr.message }, 'internal call refused');
              callback(toServiceError(perr));
            },
          )
          // A handler that throws instead of answering (createUnaryWrapper's never do): INTERNAL, not a crash.
          .catch((err: unknown) => {
            logger.error({ err, method: rpc }, 'rpc failed');
            callback(toServiceError(asPolarisError(err)));
          });
      };
      return [[name, guarded]];
    }),
  );
}

/**
 * How long a client connection lives before the server asks the client (GOAWAY) to reconnect.
 * Clients re-resolve their target when a connection closes, so this is what makes long-lived
 * channels find pods added by a scale-up (grpc-js does not re-resolve DNS on a timer). A
 * reconnect is cheap (plaintext HTTP/2 inside the cluster) and transparent to callers.
 */
const MAX_CONNECTION_AGE_MS = 60_000;
/** Time in-flight calls get on a connection being recycled: above every backend deadline. */
const MAX_CONNECTION_AGE_GRACE_MS = 30_000;

/**
 * Starts a gRPC server with the given services plus grpc.health.v1. Each service reports
 * SERVING once bound and NOT_SERVING as soon as shutdown starts. Every call to the services
 * must carry a caller token that `auth` verifies and the service's access rules admit.
 */
export async function startGrpcServer(opts: {
  host: string;
  port: number;
  services: GrpcServiceBinding[];
  /** This service's internal-call credentials (createInternalAuth), which verify callers' tokens. */
  auth: InternalAuth;
  logger: Logger;
  /** Tests only; defaults to MAX_CONNECTION_AGE_MS. */
  maxConnectionAgeMs?: number;
}): Promise<GrpcServer> {
  for (const s of opts.services) checkAccessCoversService(s.name, s.definition, s.access);
  const server = new Server({
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    'grpc.max_connection_age_ms': opts.maxConnectionAgeMs ?? MAX_CONNECTION_AGE_MS,
    'grpc.max_connection_age_grace_ms': MAX_CONNECTION_AGE_GRACE_MS,
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  for (const s of opts.services) {
    server.addService(withTolerantDecoding(s), withAccessChecks(s, opts.auth, opts.logger));
    health.setStatus(s.name, 'NOT_SERVING');
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
  const setAll = (s: 'SERVING' | 'NOT_SERVING') => {
    health.setStatus('', s);
    for (const svc of opts.services) health.setStatus(svc.name, s);
  };
  setAll('SERVING');
  opts.logger.info({ port, services: opts.services.map((s) => s.name) }, 'gRPC server listening');
  return {
    port,
    stop: (deadlineMs) =>
      new Promise<void>((resolve) => {
        setAll('NOT_SERVING');
        // In-flight calls get until the deadline to finish; then they are cut.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, deadlineMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** Turns a promise-returning handler into a grpc-js unary handler (see createUnaryWrapper). */
export type UnaryWrapper = <Req, Res>(method: string, handler: (request: Req, ctx: RpcContext) => Promise<Res>) => handleUnaryCall<Req, Res>;

export interface RpcContext {
  /** Time left before the caller's deadline, if it set one. */
  deadline?: Date;
  /** The calling service, as its verified token names it (e.g. for an audit trail). */
  caller?: InternalCaller;
}

/**
 * Wraps a promise-returning handler as a grpc-js unary handler: joins the caller's trace (span
 * named after the RPC), times it, and turns any thrown error into a gRPC status carrying the
 * PolarisError code. Unexpected errors are logged here, once, and reach the caller as INTERNAL
 * without internals.
 */
export function createUnaryWrapper(logger: Logger, registry: Registry): UnaryWrapper {
  const duration = new Histogram({
    name: 'grpc_server_handled_seconds',
    help: 'Time to handle a unary RPC, by method and outcome code',
    labelNames: ['method', 'code'],
    registers: [registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const tracer = trace.getTracer('polaris-grpc');
  return function unary<Req, Res>(
    method: string,
    handler: (request: Req, ctx: RpcContext) => Promise<Res>,
  ): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = process.hrtime.bigint();
      const parent = propagation.extract(context.active(), call.metadata, metadataGetter);
      void tracer.startActiveSpan(method, {}, parent, async (span) => {
        let code = 'ok';
        try {
          const deadline = call.getDeadline();
          const caller = verifiedCallers.get(call);
          const ctx: RpcContext = { ...(deadline instanceof Date ? { deadline } : {}), ...(caller ? { caller } : {}) };
          if (call.request instanceof UndecodableRequest) throw call.request.error;
          callback(null, await handler(call.request, ctx));
        } catch (err) {
          const perr = asPolarisError(err);
          code = perr.code;
          if (!(err instanceof PolarisError) || perr.kind === 'internal') {
            logger.error({ err, method }, 'rpc failed');
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          callback(toServiceError(perr));
        } finally {
          duration.observe({ method, code }, Number(process.hrtime.bigint() - started) / 1e9);
          span.end();
        }
      });
    };
  };
}
