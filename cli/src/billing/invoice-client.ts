import { InvoicesClient } from '@polaris/proto';
import { callUnary, createInternalAuth, insecureChannel, internalClientOptions } from '@polaris/shared/grpc';
import { PolarisError } from '@polaris/shared/errors';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';

// The rating-worker's polaris.v1.Invoices, as the operator CLI calls it (internal caller
// `operator`): for the actions that read usage (recompute, finalize, the estimate), which only the
// rating-worker can do, since only it reaches the Usage service.

/** Generous: a finalization reads the period's usage, and late usage of earlier periods. */
const DEADLINE_MS = 120_000;
const CALL_REFUSALS = new Set(['missing_internal_token', 'invalid_internal_token', 'expired_internal_token', 'wrong_token_audience', 'caller_not_allowed']);

type Invoices = InstanceType<typeof InvoicesClient>;
export type InvoicesCall = <Req, Res>(method: (client: Invoices) => Parameters<typeof callUnary<Req, Res>>[1], request: Req, organizationId: string) => Promise<Res>;

/** Where the rating-worker is and the secret to call it with; a CliError naming what is missing. */
export function ratingWorkerOf(config: OperatorConfig, command: string): { addr: string; secret: string } {
  const { grpcAddr, internalAuthSecret } = config.ratingWorker;
  const missing = [...(grpcAddr ? [] : ['RATING_WORKER_GRPC_ADDR (its gRPC address, e.g. rating-worker:50053)']), ...(internalAuthSecret ? [] : ["INTERNAL_AUTH_SECRET (the services' shared secret)"])];
  if (missing.length > 0 || !grpcAddr || !internalAuthSecret) {
    throw new CliError(`\`polaris invoice ${command}\` asks the rating-worker, and needs in the environment: ${missing.join(' and ')}`);
  }
  return { addr: grpcAddr, secret: internalAuthSecret };
}

/** A failed call as the operator should read it. */
function forTerminal(error: unknown, addr: string): unknown {
  if (!(error instanceof PolarisError)) return error;
  if (CALL_REFUSALS.has(error.code)) {
    return new CliError(`the rating-worker at ${addr} refused the call (${error.code}): INTERNAL_AUTH_SECRET must be the one the services run with`);
  }
  if (error.kind === 'unavailable' && /_unavailable$/.test(error.code)) return new CliError(`the rating-worker at ${addr} does not answer: ${error.message}`);
  if (error.kind === 'internal') return error;
  return new CliError(error.message);
}

/** Runs `work` with a client of the rating-worker's Invoices, closed after. */
export async function withInvoices<T>(config: OperatorConfig, command: string, work: (call: InvoicesCall) => Promise<T>): Promise<T> {
  const { addr, secret } = ratingWorkerOf(config, command);
  const client = new InvoicesClient(addr, insecureChannel, internalClientOptions(createInternalAuth({ INTERNAL_AUTH_SECRET: secret }, 'operator')));
  const call: InvoicesCall = (method, request, organizationId) => callUnary('rating-worker', method(client), request, DEADLINE_MS, { actingFor: organizationId });
  try {
    return await work(call);
  } catch (error) {
    throw forTerminal(error, addr);
  } finally {
    client.close();
  }
}
