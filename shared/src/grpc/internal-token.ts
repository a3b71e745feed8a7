import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { PolarisError } from '../errors';
import type { InternalAuthConfig } from './internal-auth-config';

/**
 * The services that call internal gRPC: a token's `iss`, and what an access policy lists. A
 * newcomer is added here, then to the policies of what it may call. `operator` is the polaris
 * CLI, for the invoice actions that need usage (recompute, finalize, the estimate).
 */
export const INTERNAL_CALLERS = ['collector', 'gateway', 'rating-worker', 'sink-worker', 'operator'] as const;
export type InternalCaller = (typeof INTERNAL_CALLERS)[number];

/** How long a minted token lives: one call's transit plus clock skew, not its whole deadline. */
export const TOKEN_LIFETIME_S = 30;
/** The most any token may claim (exp − iat); a longer-lived token is refused, whoever signed it. */
export const MAX_TOKEN_LIFETIME_S = 60;
/** Pods' clocks disagree a little; beyond this a token counts as expired or not yet issued. */
const CLOCK_TOLERANCE_S = 5;
const ALG = 'HS256';
/**
 * How long a minted token is handed out again for the same audience and organization. Signing is
 * a WebCrypto round trip (a thread-pool hop) on every call otherwise; a reused token still has at
 * least TOKEN_LIFETIME_S − this left, far more than a call's transit. A token carries no per-call
 * meaning (its jti is for logs; nothing tracks replays within its 30 s), so reuse grants nothing a
 * fresh token would not.
 */
export const TOKEN_REUSE_MS = 10_000;
/** Bounds both caches (minted tokens, verified tokens): emptied when full, never grown past this. */
const MAX_CACHED_TOKENS = 10_000;

/** What a verified token says about the call. */
export interface CallerClaims {
  /** The calling service. */
  caller: InternalCaller;
  /** The organization the call acts for; absent for org-less calls (ValidateApiKey, catalog sync). */
  organizationId?: string;
  /** The token's id, for logs. */
  tokenId: string;
}

/** This service's side of internal-call authentication: it mints tokens for its calls and verifies those it receives. */
export interface InternalAuth {
  readonly service: InternalCaller;
  /** A fresh token for one call to `audience` (a gRPC service name, e.g. polaris.v1.Identity). */
  mint(audience: string, organizationId?: string): Promise<string>;
  /** The claims of a token meant for `audience`, or an `unauthenticated` PolarisError saying what is wrong. */
  verify(token: string | undefined, audience: string): Promise<CallerClaims>;
}

/**
 * The codes a server refuses an internal call with (UNAUTHENTICATED here, PERMISSION_DENIED in
 * access-policy.ts). Each one is a deployment or caller bug, never the end user's doing: the
 * calling side reports it as an internal error (status.ts), not as the user's 401 or 403.
 */
export const CALL_REFUSAL_CODES: ReadonlySet<string> = new Set([
  'missing_internal_token',
  'invalid_internal_token',
  'expired_internal_token',
  'wrong_token_audience',
  'caller_not_allowed',
  'organization_mismatch',
]);

const refused = (code: string, message: string) => new PolarisError('unauthenticated', code, message);

const isCaller = (value: unknown): value is InternalCaller => INTERNAL_CALLERS.includes(value as InternalCaller);

/** Maps a jose failure to what the caller's operator needs to read; anything unforeseen is "invalid". */
function explain(err: unknown, audience: string): PolarisError {
  if (err instanceof PolarisError) return err;
  if (err instanceof errors.JWTExpired) {
    return refused('expired_internal_token', `the caller token has expired (tokens live ${TOKEN_LIFETIME_S} s; check the caller's clock)`);
  }
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud') {
    return refused('wrong_token_audience', `the caller token is not meant for ${audience}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return refused('invalid_internal_token', 'the caller token is not signed with this service\'s INTERNAL_AUTH_SECRET (or _PREVIOUS): the services disagree on the secret');
  }
  if (err instanceof errors.JWTClaimValidationFailed) return refused('invalid_internal_token', `the caller token is invalid: ${err.message} (${err.claim})`);
  if (err instanceof errors.JOSEError) return refused('invalid_internal_token', `the caller token is invalid: ${err.message}`);
  return refused('invalid_internal_token', 'the caller token could not be read');
}

/**
 * HMAC-SHA256 JWTs under one shared secret (docs/ARCHITECTURE.md, Tenancy, says why not mTLS).
 * Tokens are signed with INTERNAL_AUTH_SECRET and verified with it or, during a rotation,
 * INTERNAL_AUTH_SECRET_PREVIOUS.
 */
export function createInternalAuth(config: InternalAuthConfig, service: InternalCaller): InternalAuth {
  const encode = (s: string) => new TextEncoder().encode(s);
  const signingKey = encode(config.INTERNAL_AUTH_SECRET);
  const verifyKeys = [signingKey, ...(config.INTERNAL_AUTH_SECRET_PREVIOUS ? [encode(config.INTERNAL_AUTH_SECRET_PREVIOUS)] : [])];

  async function verifyWithAnyKey(token: string, audience: string): Promise<JWTPayload> {
    let last: unknown;
    for (const key of verifyKeys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALG],
          audience,
          clockTolerance: CLOCK_TOLERANCE_S,
          maxTokenAge: MAX_TOKEN_LIFETIME_S,
          requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
        });
        return payload;
      } catch (err) {
        // Only a signature mismatch is worth the other key; any other failure is the token's own.
        if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw err;
        last = err;
      }
    }
    throw last;
  }

  const minted = new Map<string, { token: string; reuseUntilMs: number }>();
  // A token already verified for an audience: its claims, trusted until it would expire. Keyed by
  // the exact token and audience, so it answers only what a fresh verification would have.
  const verified = new Map<string, { claims: CallerClaims; validUntilMs: number }>();
  const remember = <V>(cache: Map<string, V>, key: string, value: V) => {
    if (cache.size >= MAX_CACHED_TOKENS) cache.clear();
    cache.set(key, value);
  };

  async function mintFresh(audience: string, organizationId: string | undefined): Promise<string> {
    return new SignJWT(organizationId === undefined ? {} : { org: organizationId })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setIssuer(service)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_LIFETIME_S}s`)
      .setJti(randomUUID())
      .sign(signingKey);
  }

  return {
    service,
    async mint(audience, organizationId) {
      const key = `${audience}\n${organizationId ?? ''}`;
      const now = Date.now();
      const reusable = minted.get(key);
      if (reusable && reusable.reuseUntilMs > now) return reusable.token;
      const token = await mintFresh(audience, organizationId);
      remember(minted, key, { token, reuseUntilMs: now + TOKEN_REUSE_MS });
      return token;
    },

    async verify(token, audience) {
      if (!token) {
        throw refused(
          'missing_internal_token',
          `${audience} takes only authenticated internal calls: send "authorization: Bearer <token>" metadata, a JWT signed with INTERNAL_AUTH_SECRET (shared/src/grpc)`,
        );
      }
      const cacheKey = `${audience}\n${token}`;
      const known = verified.get(cacheKey);
      if (known && known.validUntilMs > Date.now()) return known.claims;
      try {
        const claims = await verifyWithAnyKey(token, audience);
        const { iss, iat, exp, jti, org } = claims;
        // maxTokenAge bounds how old iat is; this bounds what the signer claimed, so a token minted
        // by a buggy caller with a day-long exp is refused at once, not only after a minute.
        if (typeof iat === 'number' && typeof exp === 'number' && exp - iat > MAX_TOKEN_LIFETIME_S) {
          throw refused('invalid_internal_token', `the caller token claims to live ${exp - iat} s; at most ${MAX_TOKEN_LIFETIME_S} s are accepted`);
        }
        if (!isCaller(iss)) throw refused('invalid_internal_token', `the caller token names an unknown issuer ${JSON.stringify(iss)}`);
        if (org !== undefined && typeof org !== 'string') throw refused('invalid_internal_token', 'the caller token\'s org claim is not a string');
        const caller: CallerClaims = { caller: iss, tokenId: String(jti), ...(org === undefined ? {} : { organizationId: org }) };
        // Trusted again until it expires or grows too old, whichever is first (no clock tolerance:
        // the cache only ever ends sooner than a fresh verification would).
        if (typeof iat === 'number' && typeof exp === 'number') {
          remember(verified, cacheKey, { claims: caller, validUntilMs: Math.min(exp, iat + MAX_TOKEN_LIFETIME_S) * 1000 });
        }
        return caller;
      } catch (err) {
        throw explain(err, audience);
      }
    },
  };
}
