import { channelOptions, insecureChannel } from '@polaris/shared';
import { IdentityClient, IngestClient, UsageClient } from '@polaris/proto';

/** gRPC clients for the services behind the gateway; the gateway touches no store directly. */
export interface Backends {
  identity: InstanceType<typeof IdentityClient>;
  usage: InstanceType<typeof UsageClient>;
  ingest: InstanceType<typeof IngestClient>;
}

export function connectBackends(addr: { identity: string; usage: string; ingest: string }): Backends & { close(): void } {
  const identity = new IdentityClient(addr.identity, insecureChannel, channelOptions);
  const usage = new UsageClient(addr.usage, insecureChannel, channelOptions);
  const ingest = new IngestClient(addr.ingest, insecureChannel, channelOptions);
  return {
    identity,
    usage,
    ingest,
    close: () => {
      identity.close();
      usage.close();
      ingest.close();
    },
  };
}
