import { apiKeyManagement, type ApiKey as StoredApiKey, type Pool } from '@polaris/postgres';
import { PolarisError } from '@polaris/shared/errors';
import { requireOrganizationId } from '@polaris/shared/contracts';
import type { GrpcServiceBinding, MethodAccess, UnaryWrapper } from '@polaris/shared/grpc';
import {
  ApiKeysService,
  type ApiKey,
  type CreateApiKeyRequest,
  type CreatedApiKey,
  type ListApiKeysRequest,
  type ListApiKeysResponse,
  type RevokeApiKeyRequest,
} from '@polaris/proto';
import { grantableScopes, requireAdmin } from './api-key-grants';

const toProto = (k: StoredApiKey): ApiKey => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  createdAt: k.createdAt,
  ...(k.revokedAt ? { revokedAt: k.revokedAt } : {}),
});

/**
 * polaris.v1.ApiKeys: an organization managing its own keys through the gateway. The keys are the
 * ones the operator CLI manages (`polaris api-key`), made by the same repository code; every query
 * runs inside withOrg (postgres/src/identity/api-key-management.repository.ts).
 */
export function apiKeysService(pool: Pool, unary: UnaryWrapper): GrpcServiceBinding {
  const method = (name: string) => `polaris.v1.ApiKeys/${name}`;
  // The gateway only: the CLI works on the database directly, for any organization.
  const tenant: MethodAccess = { callers: ['gateway'], organization: 'request' };
  return {
    name: 'polaris.v1.ApiKeys',
    definition: ApiKeysService,
    access: { listApiKeys: tenant, createApiKey: tenant, revokeApiKey: tenant },
    implementation: {
      listApiKeys: unary<ListApiKeysRequest, ListApiKeysResponse>(method('ListApiKeys'), async (req) => {
        requireOrganizationId(req.organizationId);
        const page = await apiKeyManagement.list(pool, { organizationId: req.organizationId, pageSize: req.pageSize, pageToken: req.pageToken });
        return { apiKeys: page.apiKeys.map(toProto), nextPageToken: page.nextPageToken ?? '' };
      }),
      createApiKey: unary<CreateApiKeyRequest, CreatedApiKey>(method('CreateApiKey'), async (req) => {
        requireOrganizationId(req.organizationId);
        requireAdmin(req.callerScopes);
        const scopes = grantableScopes(req.scopes, req.callerScopes);
        const { apiKey, key } = await apiKeyManagement.create(pool, { organizationId: req.organizationId, name: req.name, scopes });
        return { apiKey: toProto(apiKey), secret: key };
      }),
      revokeApiKey: unary<RevokeApiKeyRequest, ApiKey>(method('RevokeApiKey'), async (req) => {
        requireOrganizationId(req.organizationId);
        requireAdmin(req.callerScopes);
        const revoked = await apiKeyManagement.revoke(pool, { organizationId: req.organizationId, id: req.id });
        // Another organization's key and no key at all answer alike: no oracle for key ids.
        if (!revoked) throw new PolarisError('not_found', 'api_key_not_found', 'no API key with this id in your organization', 'id');
        return toProto(revoked);
      }),
    },
  };
}
