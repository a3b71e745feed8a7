import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { PolarisError } from '@polaris/shared/errors';
import { API_KEY_SUBJECT_PREFIX, CLAIMS, scopesOfClaim } from './jwt-claims';

/** What a verified token says: whom it acts for, and what it may do. */
export interface VerifiedToken {
  organizationId: string;
  scopes: string[];
  /** `sub`; for exchanged tokens `api-key:<key id>`. */
  subject: string;
  /** The key it was exchanged for, else the subject: what records name as the actor. */
  keyId: string;
  expiresAt: Date;
}

export interface TokenVerifierOptions {
  /** Verifies HS256 tokens (the ones createDashboardToken issues). */
  hs256Secret?: string;
  /** Verifies asymmetric tokens (an identity provider's) against its key set, fetched and cached. */
  jwksUrl?: string;
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

/** Asymmetric algorithms only for the key set: never HS256 with a public key taken as a secret. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const refused = (reason: string, message: string) => new PolarisError('unauthenticated', reason, message);

/**
 * jose's refusals as the gateway answers them: each one UNAUTHENTICATED with its own reason, so a
 * client knows whether to refresh (token_expired) or fix its setup (wrong_token_audience, …).
 * A key set that cannot be fetched is an outage (503), not the caller's fault.
 */
function asRefusal(err: unknown, fromKeySet: boolean): PolarisError {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return refused('token_expired', 'the token has expired: get a new one');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (err as { claim?: string }).claim;
      if (claim === 'aud') return refused('wrong_token_audience', 'the token is not meant for this API (aud)');
      if (claim === 'iss') return refused('wrong_token_issuer', 'the token was not issued by an issuer this API trusts (iss)');
      if (claim === 'nbf') return refused('token_not_yet_valid', 'the token is not valid yet (nbf)');
      return refused('invalid_token_claims', `the token's "${claim ?? 'claims'}" claim is invalid or missing`);
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return refused('invalid_token_signature', 'the token signature does not verify');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return refused('unknown_token_key', "no key of the issuer's key set verifies this token");
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return refused('token_algorithm_not_accepted', "the token's signing algorithm is not accepted");
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return new PolarisError('unavailable', 'jwks_unavailable', `the identity provider's key set could not be read: ${(err as Error).message}`);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return refused('malformed_token', 'the token is not a well-formed JWT');
    default:
      // Anything else while verifying against the key set is its fetch failing (a network error,
      // a status other than 200): an outage of the identity provider, not the caller's fault.
      if (fromKeySet) return new PolarisError('unavailable', 'jwks_unavailable', `the identity provider's key set could not be read: ${(err as Error).message}`);
      return refused('malformed_token', 'the token is not a well-formed JWT');
  }
}

/**
 * Checks a JWT presented to the gateway: its signature (HS256 with JWT_HS256_SECRET, or an
 * asymmetric algorithm with a key of JWT_JWKS_URL's set, cached by jose), `iss`, `aud`, `exp`
 * (required) within the clock tolerance, and the Polaris claims (jwt-claims.ts). Every refusal is
 * a PolarisError `unauthenticated` with its reason; nothing here throws anything else.
 */
export class TokenVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;

  constructor(
    private readonly opts: TokenVerifierOptions,
    remoteKeySet: (url: URL) => JWTVerifyGetKey = (url) => createRemoteJWKSet(url, { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 }),
  ) {
    this.secret = opts.hs256Secret ? new TextEncoder().encode(opts.hs256Secret) : undefined;
    this.jwks = opts.jwksUrl ? remoteKeySet(new URL(opts.jwksUrl)) : undefined;
  }

  async verify(token: string): Promise<VerifiedToken> {
    let alg: string | undefined;
    try {
      ({ alg } = decodeProtectedHeader(token));
    } catch {
      throw refused('malformed_token', 'the token is not a well-formed JWT');
    }
    let payload: JWTPayload;
    try {
      const common = {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        clockTolerance: this.opts.clockToleranceSeconds,
        requiredClaims: ['exp', 'iss', 'aud'],
      };
      // The header's alg picks the key source; each source then allows only its own algorithms.
      if (alg === 'HS256') {
        if (!this.secret) throw refused('token_algorithm_not_accepted', 'HS256 tokens are not accepted here (no JWT_HS256_SECRET)');
        ({ payload } = await jwtVerify(token, this.secret, { ...common, algorithms: ['HS256'] }));
      } else {
        if (!this.jwks) throw refused('token_algorithm_not_accepted', `${String(alg)} tokens are not accepted here (no JWT_JWKS_URL)`);
        ({ payload } = await jwtVerify(token, this.jwks, { ...common, algorithms: JWKS_ALGORITHMS }));
      }
    } catch (err) {
      throw err instanceof PolarisError ? err : asRefusal(err, alg !== 'HS256');
    }
    const organizationId = payload[CLAIMS.organization];
    if (typeof organizationId !== 'string' || !UUID.test(organizationId)) {
      throw refused('invalid_token_claims', `the token's "${CLAIMS.organization}" claim must be an organization id (a UUID)`);
    }
    const subject = payload.sub ?? '';
    return {
      organizationId: organizationId.toLowerCase(),
      scopes: scopesOfClaim(payload[CLAIMS.scope]),
      subject,
      keyId: subject.startsWith(API_KEY_SUBJECT_PREFIX) ? subject.slice(API_KEY_SUBJECT_PREFIX.length) : subject,
      // requiredClaims made sure it is there.
      expiresAt: new Date((payload.exp ?? 0) * 1000),
    };
  }
}
