import { LRUCache } from 'lru-cache';
import { callUnary } from '../grpc/client';
import { PolarisError } from '../errors';
import type { ApiKeyScope } from './api-key';
import type { IdentityClient, ValidateApiKeyResponse } from '@polaris/proto';

export interface Principal {
  organizationId: string;
  /** The key's id: who acted, in records such as an invoice's history (`api-key:<id>`). */
  keyId: string;
  keyPrefix: string;
  scopes: string[];
  /** The organization's own event rate limit (`polaris org limits`); undefined: the collector's default. */
  eventRateLimit?: { eventsPerSecond: number; burst: number };
}

const IDENTITY_DEADLINE_MS = 2_000;
// Unknown keys are remembered briefly too, so a flood of bad keys does not become a flood of
// database lookups; short enough that a freshly created key works almost at once.
const NEGATIVE_TTL_MS = 2_000;

/** Throws permission_denied unless the principal's key has `required` (any valid key will do without it). */
export function requireScope(principal: Principal, required?: ApiKeyScope): Principal {
  if (required && !principal.scopes.includes(required)) {
    throw new PolarisError('permission_denied', 'missing_scope', `this API key lacks the "${required}" scope`);
  }
  return principal;
}

/**
 * Turns a presented API key into a Principal via polaris.v1.Identity, with a small TTL cache:
 * ingestion is the hottest path we have and keys change rarely. The cost is that a revoked key
 * keeps working for up to `ttlMs`.
 *
 * Single-flight: while a key is being validated, every other caller with the same key waits for
 * that one answer. Without it a new (or just expired) key presented by 50 concurrent requests
 * cost 50 Identity calls, each a database lookup, before the first answer reached the cache.
 */
export class ApiKeyAuthenticator {
  private readonly cache: LRUCache<string, Principal | PolarisError>;
  /** Validations under way, by key; an entry lives only until its answer is in. */
  private readonly inFlight = new Map<string, Promise<Principal>>();

  constructor(
    private readonly identity: InstanceType<typeof IdentityClient>,
    ttlMs: number,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: Math.max(ttlMs, 1), ttlAutopurge: false });
  }

  /** Without `required`, any valid key will do. */
  async authenticate(apiKey: string | undefined, required?: ApiKeyScope): Promise<Principal> {
    if (!apiKey) {
      throw new PolarisError('unauthenticated', 'missing_api_key', 'send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    }
    return requireScope(await this.resolve(apiKey), required);
  }

  private resolve(apiKey: string): Promise<Principal> {
    const cached = this.cache.get(apiKey);
    if (cached instanceof PolarisError) return Promise.reject(cached);
    if (cached) return Promise.resolve(cached);
    let shared = this.inFlight.get(apiKey);
    if (!shared) {
      shared = this.validate(apiKey).finally(() => this.inFlight.delete(apiKey));
      this.inFlight.set(apiKey, shared);
    }
    return shared;
  }

  private async validate(apiKey: string): Promise<Principal> {
    let res: ValidateApiKeyResponse;
    try {
      res = await callUnary('identity', this.identity.validateApiKey.bind(this.identity), { apiKey }, IDENTITY_DEADLINE_MS);
    } catch (err) {
      if (err instanceof PolarisError && err.kind === 'unauthenticated') this.cache.set(apiKey, err, { ttl: NEGATIVE_TTL_MS });
      throw err;
    }
    if (!res.organization) throw new PolarisError('internal', 'identity_bad_response', 'identity returned no organization');
    const limit = res.eventRateLimit;
    const principal: Principal = {
      organizationId: res.organization.id,
      keyId: res.keyId,
      keyPrefix: res.keyPrefix,
      scopes: res.scopes,
      ...(limit ? { eventRateLimit: { eventsPerSecond: limit.eventsPerSecond, burst: limit.burst } } : {}),
    };
    this.cache.set(apiKey, principal);
    return principal;
  }
}

/** "Bearer <key>" → key; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
