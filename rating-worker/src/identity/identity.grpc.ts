import { apiKeyPrefix, hashApiKey, PolarisError, type UnaryWrapper, type GrpcServiceBinding, requireOrganizationId } from '@polaris/shared';
import {
  IdentityService,
  type GetOrganizationRequest,
  type Organization,
  type ValidateApiKeyRequest,
  type ValidateApiKeyResponse,
} from '@polaris/proto';
import type { IdentityRepository, OrganizationRow } from './identity.repository';


const toProto = (o: OrganizationRow): Organization => ({ id: o.id, slug: o.slug, name: o.name, createdAt: o.createdAt });

/** polaris.v1.Identity over PostgreSQL. */
export function identityService(repo: IdentityRepository, unary: UnaryWrapper): GrpcServiceBinding {
  return {
    name: 'polaris.v1.Identity',
    definition: IdentityService,
    implementation: {
      validateApiKey: unary<ValidateApiKeyRequest, ValidateApiKeyResponse>('polaris.v1.Identity/ValidateApiKey', async (req) => {
        // Malformed, unknown and revoked keys all get the same answer: no oracle for guessing.
        const rejected = new PolarisError('unauthenticated', 'invalid_api_key', 'API key is invalid or revoked');
        if (!apiKeyPrefix(req.apiKey)) throw rejected;
        const key = await repo.findActiveKeyByHash(hashApiKey(req.apiKey));
        if (!key) throw rejected;
        return { organization: toProto(key.organization), keyId: key.keyId, keyPrefix: key.prefix, scopes: key.scopes };
      }),
      getOrganization: unary<GetOrganizationRequest, Organization>('polaris.v1.Identity/GetOrganization', async (req) => {
        requireOrganizationId(req.organizationId);
        const org = await repo.findOrganization(req.organizationId);
        if (!org) throw new PolarisError('not_found', 'organization_not_found', 'organization not found');
        return toProto(org);
      }),
    },
  };
}
