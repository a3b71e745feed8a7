import { PolarisError } from '@polaris/shared/errors';
import type { ApiKeyAuthenticator, ApiKeyHeaders, Principal } from '@polaris/shared/auth';
import type { OrganizationCheck } from './organization-check';
import { presentedCredential } from './presented-credential';
import type { TokenVerifier } from './token-verifier';

/** A principal and the kind of credential it came from (createDashboardToken takes API keys only). */
export interface GatewayPrincipal extends Principal {
  credential: 'api_key' | 'jwt';
}

export interface GatewayAuthenticatorParts {
  apiKeys: ApiKeyAuthenticator;
  /** Undefined: JWTs are not accepted (neither JWT_HS256_SECRET nor JWT_JWKS_URL is set). */
  tokens?: TokenVerifier;
  /** Checks a JWT's organization exists (organization-check.ts); undefined only in tests that need no Identity. */
  organizations?: OrganizationCheck;
}

/**
 * Turns a request's credential into a principal: an API key through Identity (cached, as in the
 * collector), a JWT by its signature and claims and then its organization's existence. The
 * organization always comes from the credential, never from the request.
 */
export class GatewayAuthenticator {
  constructor(private readonly parts: GatewayAuthenticatorParts) {}

  async authenticate(headers: ApiKeyHeaders): Promise<GatewayPrincipal> {
    const credential = presentedCredential(headers);
    if (credential?.kind !== 'jwt') {
      return { ...(await this.parts.apiKeys.authenticate(credential?.key)), credential: 'api_key' };
    }
    const { tokens, organizations } = this.parts;
    if (!tokens) {
      throw new PolarisError('unauthenticated', 'jwt_not_accepted', 'this API takes no JWTs (no JWT_HS256_SECRET nor JWT_JWKS_URL is configured): send an API key');
    }
    const verified = await tokens.verify(credential.token);
    await organizations?.requireExisting(verified.organizationId);
    return {
      organizationId: verified.organizationId,
      keyId: verified.keyId,
      keyPrefix: '',
      scopes: verified.scopes,
      credential: 'jwt',
    };
  }
}
