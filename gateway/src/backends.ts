import { makeClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { type ReadinessCheck } from '@polaris/shared/service';
import { insecureChannel, type InternalAuth } from '@polaris/shared/grpc';
import {
  CustomersClient, CustomersService, IdentityClient, IdentityService, IngestClient, IngestService, InvoicesClient, InvoicesService, MetersClient,
  MetersService, PlansClient, PlansService, SubscriptionsClient, SubscriptionsService, UsageClient, UsageService,
  UsageThresholdsClient, UsageThresholdsService, WebhooksClient, WebhooksService,
} from '@polaris/proto';
import { backendClientOptions } from './backend-retries';

/** gRPC clients for the services behind the gateway; the gateway touches no store directly. */
export interface Backends {
  identity: InstanceType<typeof IdentityClient>;
  usage: InstanceType<typeof UsageClient>;
  ingest: InstanceType<typeof IngestClient>;
  meters: InstanceType<typeof MetersClient>;
  customers: InstanceType<typeof CustomersClient>;
  plans: InstanceType<typeof PlansClient>;
  subscriptions: InstanceType<typeof SubscriptionsClient>;
  invoices: InstanceType<typeof InvoicesClient>;
  /** The rating-worker's usage thresholds (on the billing address). */
  usageThresholds: InstanceType<typeof UsageThresholdsClient>;
  /** The rating-worker's webhook endpoints and deliveries (on the billing address). */
  webhooks: InstanceType<typeof WebhooksClient>;
}

/**
 * Where each backend answers, and the name of its readiness check. `billing` is the one server
 * (the rating-worker's) of Customers, Plans, Subscriptions and Invoices.
 */
export type BackendName = 'identity' | 'usage' | 'ingest' | 'meters' | 'billing';

/** Each readiness check gets this long for its answer: well inside the ops server's 2 s and the kubelet's. */
const HEALTH_DEADLINE_MS = 1_000;

// grpc.health.v1, which every Polaris gRPC server serves (shared/src/grpc/server.ts).
const HealthClient = makeClientConstructor(healthService, 'grpc.health.v1.Health');
interface HealthStub {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (err: ServiceError | null, response: { status: string }) => void,
  ): void;
}

/**
 * A readiness check that asks the backend's grpc.health.v1 Check for its own service name
 * (e.g. polaris.v1.Identity), over the backend client's own channel: it sees what the real calls
 * see (same connections, same round_robin over the pods), and opens nothing of its own.
 */
function healthCheck(name: BackendName, client: Client, serviceName: string, addr: string): () => Promise<void> {
  const health = new HealthClient(addr, insecureChannel, { channelOverride: client.getChannel() }) as unknown as HealthStub;
  return () =>
    new Promise<void>((resolve, reject) => {
      health.check({ service: serviceName }, { deadline: Date.now() + HEALTH_DEADLINE_MS }, (err, res) => {
        if (err) reject(new Error(`${name} (${serviceName} at ${addr}): ${err.details || err.message}`));
        else if (res.status !== 'SERVING') reject(new Error(`${name} (${serviceName} at ${addr}) is ${res.status}`));
        else resolve();
      });
    });
}

/**
 * Every call carries a token minted by `auth` (as "gateway"); the resolvers pass the
 * organization of the validated API key as the call's `actingFor`, and callUnary gives each call
 * its deadline and the request's trace context. Reads are retried once on UNAVAILABLE (a pod
 * going away mid-call), mutations never (backend-retries.ts).
 */
export function connectBackends(addr: Record<BackendName, string>, auth: InternalAuth): Backends & {
  /** grpc.health.v1 Check of each backend, by name. */
  health: Record<BackendName, ReadinessCheck['check']>;
  close(): void;
} {
  const identity = new IdentityClient(addr.identity, insecureChannel, backendClientOptions(auth, IdentityService));
  const usage = new UsageClient(addr.usage, insecureChannel, backendClientOptions(auth, UsageService));
  const ingest = new IngestClient(addr.ingest, insecureChannel, backendClientOptions(auth, IngestService));
  const meters = new MetersClient(addr.meters, insecureChannel, backendClientOptions(auth, MetersService));
  const customers = new CustomersClient(addr.billing, insecureChannel, backendClientOptions(auth, CustomersService));
  const plans = new PlansClient(addr.billing, insecureChannel, backendClientOptions(auth, PlansService));
  const subscriptions = new SubscriptionsClient(addr.billing, insecureChannel, backendClientOptions(auth, SubscriptionsService));
  const invoices = new InvoicesClient(addr.billing, insecureChannel, backendClientOptions(auth, InvoicesService));
  const usageThresholds = new UsageThresholdsClient(addr.billing, insecureChannel, backendClientOptions(auth, UsageThresholdsService));
  const webhooks = new WebhooksClient(addr.billing, insecureChannel, backendClientOptions(auth, WebhooksService));
  const clients = [identity, usage, ingest, meters, customers, plans, subscriptions, invoices, usageThresholds, webhooks];
  return {
    identity,
    usage,
    ingest,
    meters,
    customers,
    plans,
    subscriptions,
    invoices,
    usageThresholds,
    webhooks,
    health: {
      identity: healthCheck('identity', identity, IdentityClient.serviceName, addr.identity),
      usage: healthCheck('usage', usage, UsageClient.serviceName, addr.usage),
      ingest: healthCheck('ingest', ingest, IngestClient.serviceName, addr.ingest),
      meters: healthCheck('meters', meters, MetersClient.serviceName, addr.meters),
      // The four billing services are served together: Invoices answering stands for them all.
      billing: healthCheck('billing', invoices, InvoicesClient.serviceName, addr.billing),
    },
    // The health clients share these channels: closing the backend clients closes them too.
    close: () => {
      for (const client of clients) client.close();
    },
  };
}
