import { WebhooksClient } from '@polaris/proto';
import { callUnary, createInternalAuth, insecureChannel, internalClientOptions } from '@polaris/shared/grpc';
import { PolarisError } from '@polaris/shared/errors';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';

// The rating-worker's polaris.v1.Webhooks, as the operator CLI calls it (internal caller
// `operator`): every `polaris webhook` command goes through it, so the CLI applies the same
// checks (the private-address guard of production) as the gateway's callers get.

const DEADLINE_MS = 30_000;
type Webhooks = InstanceType<typeof WebhooksClient>;
export type WebhooksCall = <Req, Res>(method: (client: Webhooks) => Parameters<typeof callUnary<Req, Res>>[1], request: Req) => Promise<Res>;

function forTerminal(error: unknown, addr: string): unknown {
  if (!(error instanceof PolarisError)) return error;
  if (error.kind === 'unavailable' && /_unavailable$/.test(error.code)) return new CliError(`the rating-worker at ${addr} does not answer: ${error.message}`);
  if (error.kind === 'internal') return error;
  return new CliError(error.code.startsWith('caller_') || error.code.endsWith('_internal_token') ? `the rating-worker at ${addr} refused the call (${error.code}): INTERNAL_AUTH_SECRET must be the one the services run with` : error.message);
}

/** Runs `work` with calls to the rating-worker's Webhooks acting for `organizationId`, the client closed after. */
export async function withWebhooks<T>(config: OperatorConfig, organizationId: string, work: (call: WebhooksCall) => Promise<T>): Promise<T> {
  const { grpcAddr, internalAuthSecret } = config.ratingWorker;
  if (!grpcAddr || !internalAuthSecret) {
    throw new CliError('`polaris webhook` asks the rating-worker, and needs in the environment: RATING_WORKER_GRPC_ADDR (e.g. rating-worker:50053) and INTERNAL_AUTH_SECRET');
  }
  const client = new WebhooksClient(grpcAddr, insecureChannel, internalClientOptions(createInternalAuth({ INTERNAL_AUTH_SECRET: internalAuthSecret }, 'operator')));
  const call: WebhooksCall = (method, request) => callUnary('rating-worker', method(client), request, DEADLINE_MS, { actingFor: organizationId });
  try {
    return await work(call);
  } catch (error) {
    throw forTerminal(error, grpcAddr);
  } finally {
    client.close();
  }
}
