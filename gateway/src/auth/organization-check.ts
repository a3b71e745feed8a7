import { LRUCache } from 'lru-cache';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary } from '@polaris/shared/grpc';
import type { IdentityClient } from '@polaris/proto';

const IDENTITY_DEADLINE_MS = 2_000;
const NEGATIVE_TTL_MS = 2_000;

/**
 * Whether the organization a JWT names exists, through Identity.GetOrganization, remembered for
 * `ttlMs` (the API key cache's TTL) with one call in flight per organization.
 *
 * Why ask at all, when the signature already proves who issued the token: an API key is checked
 * against the database on every cache miss, so a deleted organization stops working within the
 * cache TTL. A token would otherwise keep working for its whole life after its organization is
 * gone, and a token from an identity provider (JWKS) can name any UUID: the check turns both into
 * an immediate, clear 401 instead of empty answers for an organization that does not exist. The
 * price is one cached call per organization, the same as for a key.
 */
export class OrganizationCheck {
  private readonly cache: LRUCache<string, true | PolarisError>;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly identity: InstanceType<typeof IdentityClient>,
    ttlMs: number,
  ) {
    this.cache = new LRUCache({ max: 10_000, ttl: Math.max(ttlMs, 1) });
  }

  /** Resolves when the organization exists; unauthenticated `unknown_organization` when it does not. */
  async requireExisting(organizationId: string): Promise<void> {
    const cached = this.cache.get(organizationId);
    if (cached === true) return;
    if (cached) throw cached;
    let shared = this.inFlight.get(organizationId);
    if (!shared) {
      shared = this.ask(organizationId).finally(() => this.inFlight.delete(organizationId));
      this.inFlight.set(organizationId, shared);
    }
    return shared;
  }

  private async ask(organizationId: string): Promise<void> {
    try {
      await callUnary('identity', this.identity.getOrganization.bind(this.identity), { organizationId }, IDENTITY_DEADLINE_MS, { actingFor: organizationId });
    } catch (err) {
      if (err instanceof PolarisError && err.kind === 'not_found') {
        const refusal = new PolarisError('unauthenticated', 'unknown_organization', "the token's organization does not exist");
        this.cache.set(organizationId, refusal, { ttl: NEGATIVE_TTL_MS });
        throw refusal;
      }
      throw err;
    }
    this.cache.set(organizationId, true);
  }
}
