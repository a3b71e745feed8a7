import { Metadata } from '@grpc/grpc-js';
import { localInternalAuthSecret } from '@polaris/dev/launcher';
import { createInternalAuth, type InternalCaller } from '@polaris/shared/grpc';
import { repoRoot } from './private-services';

/**
 * Call metadata with a caller token the launched services accept (they share the checkout's
 * local secret): as `caller` (the gateway unless said otherwise) calling `service`
 * (polaris.v1.Identity, …), acting for `actingFor` when the method is organization-scoped.
 */
export async function callerMetadata(service: string, opts: { caller?: InternalCaller; actingFor?: string } = {}): Promise<Metadata> {
  const auth = createInternalAuth({ INTERNAL_AUTH_SECRET: localInternalAuthSecret(repoRoot) }, opts.caller ?? 'gateway');
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${await auth.mint(service, opts.actingFor)}`);
  return metadata;
}
