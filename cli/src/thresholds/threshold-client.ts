import { UsageThresholdsClient } from '@polaris/proto';
import type { OperatorConfig } from '../config';
import { withRatingWorkerFor, type OrganizationCall } from '../rating-worker-client';

// The rating-worker's polaris.v1.UsageThresholds, as the operator CLI calls it (internal caller
// `operator`): every threshold command goes through it, so the CLI checks input and scopes the
// organization exactly as the API does.

const THRESHOLDS = {
  Client: UsageThresholdsClient,
  command: 'threshold',
  deadlineMs: 30_000,
  /** Proto fields as the command's flags. */
  flags: {
    customer_id: '<customer>',
    external_id: '<customer>',
    meter: '--meter',
    quantity: '--quantity',
    percent: '--percent',
    threshold_id: '<threshold-id>',
  },
};

export type ThresholdsCall = OrganizationCall<InstanceType<typeof UsageThresholdsClient>>;

/** Runs `work` with a client of the rating-worker's UsageThresholds acting for the organization, closed after. */
export function withThresholds<T>(config: OperatorConfig, organizationId: string, work: (call: ThresholdsCall) => Promise<T>): Promise<T> {
  return withRatingWorkerFor(config, THRESHOLDS, organizationId, work);
}
