import { WebhooksClient } from '@polaris/proto';
import type { OperatorConfig } from '../config';
import { withRatingWorkerFor, type OrganizationCall } from '../rating-worker-client';

// The rating-worker's polaris.v1.Webhooks, as the operator CLI calls it (internal caller
// `operator`): every `polaris webhook` command goes through it, so the CLI applies the same
// checks (the private-address guard of production) as the gateway's callers get.

const WEBHOOKS = { Client: WebhooksClient, command: 'webhook', deadlineMs: 30_000 };

export type WebhooksCall = OrganizationCall<InstanceType<typeof WebhooksClient>>;

/** Runs `work` with calls to the rating-worker's Webhooks acting for `organizationId`, the client closed after. */
export function withWebhooks<T>(config: OperatorConfig, organizationId: string, work: (call: WebhooksCall) => Promise<T>): Promise<T> {
  return withRatingWorkerFor(config, WEBHOOKS, organizationId, work);
}
