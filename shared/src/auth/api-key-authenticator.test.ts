import { describe, expect, it } from 'vitest';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { IdentityClient, ValidateApiKeyResponse } from '@polaris/proto';
import { ApiKeyAuthenticator } from './api-key-authenticator';

const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';

/** An Identity that answers every ValidateApiKey after a few ms, and counts the calls. */
function countingIdentity(answer: (apiKey: string) => ValidateApiKeyResponse | ServiceError) {
  const calls: string[] = [];
  const identity = {
    validateApiKey: (
      req: { apiKey: string },
      _metadata: Metadata,
      _options: unknown,
      callback: (err: ServiceError | null, res?: ValidateApiKeyResponse) => void,
    ) => {
      calls.push(req.apiKey);
      const result = answer(req.apiKey);
      setTimeout(() => ('code' in result ? callback(result) : callback(null, result)), 5);
      return {};
    },
  };
  return { identity: identity as unknown as InstanceType<typeof IdentityClient>, calls };
}

const valid = (): ValidateApiKeyResponse => ({
  organization: { id: ORG, slug: 'acme', name: 'Acme', createdAt: new Date(0) },
  keyId: '0b7e3f52-9d4c-4a8e-8f0e-6a1d2c3b4a59',
  keyPrefix: 'pol_abcd1234',
  scopes: ['events:write', 'usage:read'],
});

const unknownKey = (): ServiceError => {
  const metadata = new Metadata();
  metadata.set('polaris-error-code', 'invalid_api_key');
  return Object.assign(new Error('unknown API key'), { code: status.UNAUTHENTICATED, details: 'unknown API key', metadata });
};

describe('ApiKeyAuthenticator', () => {
  it('50 concurrent requests with one new key make a single Identity call (single-flight), and all get the principal', async () => {
    const { identity, calls } = countingIdentity(valid);
    const auth = new ApiKeyAuthenticator(identity, 30_000);
    const principals = await Promise.all(Array.from({ length: 50 }, () => auth.authenticate('pol_abcd1234_new')));
    expect(calls).toEqual(['pol_abcd1234_new']);
    expect(new Set(principals.map((p) => p.organizationId))).toEqual(new Set([ORG]));
  });

  it('shares a refusal too: 50 concurrent requests with an unknown key make one call and all get 401', async () => {
    const { identity, calls } = countingIdentity(unknownKey);
    const auth = new ApiKeyAuthenticator(identity, 30_000);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => auth.authenticate('pol_zzzzzzzz_bad')));
    expect(calls).toHaveLength(1);
    for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { kind: 'unauthenticated', code: 'invalid_api_key' } });
  });

  it('asks again once the shared call is over and nothing was cached (ttl 0): single-flight is not a cache', async () => {
    const { identity, calls } = countingIdentity(valid);
    const auth = new ApiKeyAuthenticator(identity, 0);
    await auth.authenticate('pol_abcd1234_k');
    await new Promise((r) => setTimeout(r, 5));
    await auth.authenticate('pol_abcd1234_k');
    expect(calls).toHaveLength(2);
  });

  it('checks the scope for each caller, not once for the shared call', async () => {
    const { identity, calls } = countingIdentity(() => ({ ...valid(), scopes: ['usage:read'] }));
    const auth = new ApiKeyAuthenticator(identity, 30_000);
    const [read, write] = await Promise.allSettled([auth.authenticate('pol_abcd1234_r', 'usage:read'), auth.authenticate('pol_abcd1234_r', 'events:write')]);
    expect(read.status).toBe('fulfilled');
    expect(write).toMatchObject({ status: 'rejected', reason: { code: 'missing_scope' } });
    expect(calls).toHaveLength(1);
  });
});
