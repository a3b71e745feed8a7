import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Principal } from '@polaris/shared/auth';
import { API_KEY_SUBJECT_PREFIX, CLAIMS } from './jwt-claims';

export interface DashboardToken {
  token: string;
  expiresAt: Date;
  scopes: string[];
}

export interface DashboardTokenOptions {
  hs256Secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/**
 * Issues the short-lived HS256 tokens of createDashboardToken: a browser holds one instead of an
 * API key. It acts for the key's organization with the key's scopes, as `api-key:<key id>`, and
 * cannot be revoked: it is only outlived (JWT_TTL_SECONDS).
 */
export class DashboardTokenIssuer {
  private readonly secret: Uint8Array;

  constructor(
    private readonly opts: DashboardTokenOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.secret = new TextEncoder().encode(opts.hs256Secret);
  }

  async issue(principal: Pick<Principal, 'organizationId' | 'keyId' | 'scopes'>): Promise<DashboardToken> {
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + this.opts.ttlSeconds;
    const token = await new SignJWT({ [CLAIMS.organization]: principal.organizationId, [CLAIMS.scope]: principal.scopes.join(' ') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(this.opts.issuer)
      .setAudience(this.opts.audience)
      .setSubject(`${API_KEY_SUBJECT_PREFIX}${principal.keyId}`)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(this.secret);
    return { token, expiresAt: new Date(expiresAt * 1000), scopes: [...principal.scopes] };
  }
}
