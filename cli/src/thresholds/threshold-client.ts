import { UsageThresholdsClient } from '@polaris/proto';
import { callUnary, createInternalAuth, insecureChannel, internalClientOptions } from '@polaris/shared/grpc';
import { PolarisError } from '@polaris/shared/errors';
import type { OperatorConfig } from '../config';
import { CliError } from '../errors';

// The rating-worker's polaris.v1.UsageThresholds, as the operator CLI calls it (internal caller
// `operator`): every threshold command goes through it, so the CLI checks input and scopes the
// organization exactly as the API does.

const DEADLINE_MS = 30_000;
const CALL_REFUSALS = new Set(['missing_internal_token', 'invalid_internal_token', 'expired_internal_token', 'wrong_token_audience', 'caller_not_allowed']);
/** Proto fields as the command's flags. */
const FLAGS: Readonly<Record<string, string>> = {
  customer_id: '<customer>',
  external_id: '<customer>',
  meter: '--meter',
  quantity: '--quantity',
  percent: '--percent',
  threshold_id: '<threshold-id>',
};

type Thresholds = InstanceType<typeof UsageThresholdsClient>;
export type ThresholdsCall = <Req, Res>(method: (client: Thresholds) => Parameters<typeof callUnary<Req, Res>>[1], request: Req) => Promise<Res>;

function forTerminal(error: unknown, addr: string): unknown {
  if (!(error instanceof PolarisError)) return error;
  if (CALL_REFUSALS.has(error.code)) {
    return new CliError(`the rating-worker at ${addr} refused the call (${error.code}): INTERNAL_AUTH_SECRET must be the one the services run with`);
  }
  if (error.kind === 'unavailable' && /_unavailable$/.test(error.code)) return new CliError(`the rating-worker at ${addr} does not answer: ${error.message}`);
  if (error.kind === 'internal') return error;
  const flag = error.field ? FLAGS[error.field] : undefined;
  return new CliError(flag ? `${error.message} (${flag})` : error.message);
}

/** Runs `work` with a client of the rating-worker's UsageThresholds acting for the organization, closed after. */
export async function withThresholds<T>(config: OperatorConfig, organizationId: string, work: (call: ThresholdsCall) => Promise<T>): Promise<T> {
  const { grpcAddr, internalAuthSecret } = config.ratingWorker;
  if (!grpcAddr || !internalAuthSecret) {
    throw new CliError('`polaris threshold` asks the rating-worker, and needs RATING_WORKER_GRPC_ADDR and INTERNAL_AUTH_SECRET in the environment');
  }
  const client = new UsageThresholdsClient(grpcAddr, insecureChannel, internalClientOptions(createInternalAuth({ INTERNAL_AUTH_SECRET: internalAuthSecret }, 'operator')));
  const call: ThresholdsCall = (method, request) => callUnary('rating-worker', method(client), request, DEADLINE_MS, { actingFor: organizationId });
  try {
    return await work(call);
  } catch (error) {
    throw forTerminal(error, grpcAddr);
  } finally {
    client.close();
  }
}
