import { apiKeys, organizationRateLimits, organizations, type Organization as StoredOrganization, type Queryable } from '@polaris/postgres';
import { PolarisError } from '@polaris/shared/errors';
import { requireOrganizationId } from '@polaris/shared/contracts';
import { type UnaryWrapper, type GrpcServiceBinding } from '@polaris/shared/grpc';
import { apiKeyPrefix, hashApiKey } from '@polaris/shared/auth';
import {
  IdentityService,
  type GetOrganizationRequest,
  type Organization,
  type ValidateApiKeyRequest,
  type ValidateApiKeyResponse,
} from '@polaris/proto';

const toProto = (o: StoredOrganization): Organization => ({ id: o.id, slug: o.slug, name: o.name, createdAt: o.createdAt });

/** polaris.v1.Identity over PostgreSQL, through the identity repositories of @polaris/postgres. */
export function identityService(db: Queryable, unary: UnaryWrapper): GrpcServiceBinding {
  return {
    name: 'polaris.v1.Identity',
    definition: IdentityService,
    // ValidateApiKey runs before any organization is known; GetOrganization acts for the key's.
    access: {
      validateApiKey: { callers: ['gateway', 'collector'], organization: 'none' },
      getOrganization: { callers: ['gateway'], organization: 'request' },
    },
    implementation: {
      validateApiKey: unary<ValidateApiKeyRequest, ValidateApiKeyResponse>('polaris.v1.Identity/ValidateApiKey', async (req) => {
        // Malformed, unknown and revoked keys all get the same answer: no oracle for guessing.
        const rejected = new PolarisError('unauthenticated', 'invalid_api_key', 'API key is invalid or revoked');
        if (!apiKeyPrefix(req.apiKey)) throw rejected;
        // No organization yet: the key's comes from a SECURITY DEFINER lookup by hash, then the key
        // and the org's limit are read under withOrg of it (api-keys repository, migration 006).
        const found = await apiKeys.findActiveByHash(db, hashApiKey(req.apiKey));
        if (!found) throw rejected;
        const { apiKey, organization } = found;
        // With the key, so the collector learns the org's own event limit where it already asks.
        const limit = await organizationRateLimits.find(db, organization.id);
        return {
          organization: toProto(organization),
          keyId: apiKey.id,
          keyPrefix: apiKey.prefix,
          scopes: apiKey.scopes,
          ...(limit ? { eventRateLimit: { eventsPerSecond: limit.eventsPerSecond, burst: limit.burst } } : {}),
        };
      }),
      getOrganization: unary<GetOrganizationRequest, Organization>('polaris.v1.Identity/GetOrganization', async (req) => {
        requireOrganizationId(req.organizationId);
        const org = await organizations.findById(db, req.organizationId);
        if (!org) throw new PolarisError('not_found', 'organization_not_found', 'organization not found');
        return toProto(org);
      }),
    },
  };
}
