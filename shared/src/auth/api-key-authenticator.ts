import { LRUCache } from 'lru-cache';
import { callUnary } from '../grpc/client';
import { PolarisError } from '../errors';
import type { ApiKeyScope } from './api-key';
import type { IdentityClient, ValidateApiKeyResponse } from '@polaris/proto';

export interface Principal {
  organizationId: string;
  keyPrefix: string;
  scopes: string[];
}

const IDENTITY_DEADLINE_MS = 2_000;
// Unknown keys are remembered briefly too, so a flood of bad keys does not become a flood of
// database lookups; short enough that a freshly created key works almost at once.
const NEGATIVE_TTL_MS = 2_000;

/**
 * Turns a presented API key into a Principal via polaris.v1.Identity, with a small TTL cache:
 * ingestion is the hottest path we have and keys change rarely. The cost is that a revoked key
 * keeps working for up to `ttlMs`.
 */
export class ApiKeyAuthenticator {
  private readonly cache: LRUCache<string, Principal | PolarisError>;

  constructor(
    private readonly identity: InstanceType<typeof IdentityClient>,
    ttlMs: number,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: Math.max(ttlMs, 1), ttlAutopurge: false });
  }

  /** Without `required`, any valid key will do. */
  async authenticate(apiKey: string | undefined, required?: ApiKeyScope): Promise<Principal> {
    if (!apiKey) {
      throw new PolarisError('unauthenticated', 'missing_api_key', 'send an API key as "Authorization: Bearer <key>"');
    }
    const principal = await this.resolve(apiKey);
    if (required && !principal.scopes.includes(required)) {
      throw new PolarisError('permission_denied', 'missing_scope', `this API key lacks the "${required}" scope`);
    }
    return principal;
  }

  private async resolve(apiKey: string): Promise<Principal> {
    const cached = this.cache.get(apiKey);
    if (cached instanceof PolarisError) throw cached;
    if (cached) return cached;
    let res: ValidateApiKeyResponse;
    try {
      res = await callUnary('identity', this.identity.validateApiKey.bind(this.identity), { apiKey }, IDENTITY_DEADLINE_MS);
    } catch (err) {
      if (err instanceof PolarisError && err.kind === 'unauthenticated') this.cache.set(apiKey, err, { ttl: NEGATIVE_TTL_MS });
      throw err;
    }
    if (!res.organization) throw new PolarisError('internal', 'identity_bad_response', 'identity returned no organization');
    const principal = { organizationId: res.organization.id, keyPrefix: res.keyPrefix, scopes: res.scopes };
    this.cache.set(apiKey, principal);
    return principal;
  }
}

/** "Bearer <key>" → key; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
