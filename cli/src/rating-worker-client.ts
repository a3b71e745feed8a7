import { callUnary, createInternalAuth, insecureChannel, internalClientOptions } from '@polaris/shared/grpc';
import { PolarisError } from '@polaris/shared/errors';
import type { OperatorConfig } from './config';
import { CliError } from './errors';

// The operator CLI as a client of the rating-worker's gRPC services (internal caller `operator`):
// the commands that need what only the rating-worker does (invoices that read usage, webhooks,
// usage thresholds) call its API, so they get the same checks as the gateway's callers. One place
// for finding the worker, signing the calls and telling the operator what went wrong.

const CALL_REFUSALS = new Set(['missing_internal_token', 'invalid_internal_token', 'expired_internal_token', 'wrong_token_audience', 'caller_not_allowed']);

/** A generated client class (`WebhooksClient`, …), as constructed here. */
type ClientConstructor<C> = new (address: string, credentials: typeof insecureChannel, options: ReturnType<typeof internalClientOptions>) => C;

/** Picks the method to call off the client: `(c) => c.listWebhookEndpoints.bind(c)`. */
export type MethodOf<C, Req, Res> = (client: C) => Parameters<typeof callUnary<Req, Res>>[1];
/** One unary call of `C` acting for an organization, as a promise. */
export type RatingWorkerCall<C> = <Req, Res>(method: MethodOf<C, Req, Res>, request: Req, organizationId: string) => Promise<Res>;
/** One unary call of `C` acting for the organization the calls were opened for. */
export type OrganizationCall<C> = <Req, Res>(method: MethodOf<C, Req, Res>, request: Req) => Promise<Res>;

export interface RatingWorkerService<C> {
  Client: ClientConstructor<C>;
  /** The command, as the operator typed it after `polaris` (`webhook`, `invoice finalize`): named when settings are missing. */
  command: string;
  deadlineMs: number;
  /** Proto fields as the command's flags, so an invalid-input message names what the operator typed. */
  flags?: Readonly<Record<string, string>>;
}

/** Where the rating-worker is and the secret to call it with; a CliError naming what is missing. */
export function ratingWorkerOf(config: OperatorConfig, command: string): { addr: string; secret: string } {
  const { grpcAddr, internalAuthSecret } = config.ratingWorker;
  const missing = [...(grpcAddr ? [] : ['RATING_WORKER_GRPC_ADDR (its gRPC address, e.g. rating-worker:50053)']), ...(internalAuthSecret ? [] : ["INTERNAL_AUTH_SECRET (the services' shared secret)"])];
  if (missing.length > 0 || !grpcAddr || !internalAuthSecret) {
    throw new CliError(`\`polaris ${command}\` asks the rating-worker, and needs in the environment: ${missing.join(' and ')}`);
  }
  return { addr: grpcAddr, secret: internalAuthSecret };
}

/** A failed call as the operator should read it. */
function forTerminal(error: unknown, addr: string, flags: Readonly<Record<string, string>> = {}): unknown {
  if (!(error instanceof PolarisError)) return error;
  if (CALL_REFUSALS.has(error.code)) {
    return new CliError(`the rating-worker at ${addr} refused the call (${error.code}): INTERNAL_AUTH_SECRET must be the one the services run with`);
  }
  if (error.kind === 'unavailable' && /_unavailable$/.test(error.code)) return new CliError(`the rating-worker at ${addr} does not answer: ${error.message}`);
  if (error.kind === 'internal') return error;
  const flag = error.field ? flags[error.field] : undefined;
  return new CliError(flag ? `${error.message} (${flag})` : error.message);
}

/** Runs `work` with calls to one of the rating-worker's services, the client closed after. */
export async function withRatingWorker<C extends { close(): void }, T>(config: OperatorConfig, service: RatingWorkerService<C>, work: (call: RatingWorkerCall<C>) => Promise<T>): Promise<T> {
  const { addr, secret } = ratingWorkerOf(config, service.command);
  const client = new service.Client(addr, insecureChannel, internalClientOptions(createInternalAuth({ INTERNAL_AUTH_SECRET: secret }, 'operator')));
  const call: RatingWorkerCall<C> = (method, request, organizationId) => callUnary('rating-worker', method(client), request, service.deadlineMs, { actingFor: organizationId });
  try {
    return await work(call);
  } catch (error) {
    throw forTerminal(error, addr, service.flags);
  } finally {
    client.close();
  }
}

/** withRatingWorker, every call acting for `organizationId`. */
export function withRatingWorkerFor<C extends { close(): void }, T>(config: OperatorConfig, service: RatingWorkerService<C>, organizationId: string, work: (call: OrganizationCall<C>) => Promise<T>): Promise<T> {
  return withRatingWorker(config, service, (call) => work((method, request) => call(method, request, organizationId)));
}
