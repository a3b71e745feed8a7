import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTVerifyGetKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { DashboardTokenIssuer } from './dashboard-tokens';
import { presentedCredential } from './presented-credential';
import { TokenVerifier } from './token-verifier';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long';
const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';
const KEY_ID = '0b7e3f52-9d4c-4a8e-8f0e-6a1d2c3b4a59';
const jwt = { issuer: 'polaris', audience: 'polaris-graphql' };
const verifier = new TokenVerifier({ ...jwt, hs256Secret: SECRET, clockToleranceSeconds: 30 });
const issuer = (overrides: Partial<{ hs256Secret: string; issuer: string; audience: string; ttlSeconds: number }> = {}, now = Date.now) =>
  new DashboardTokenIssuer({ ...jwt, hs256Secret: SECRET, ttlSeconds: 900, ...overrides }, now);
const principal = { organizationId: ORG, keyId: KEY_ID, scopes: ['usage:read', 'billing:read'] };

/** The reason a verification was refused with. */
async function reason(v: TokenVerifier, token: string): Promise<string> {
  try {
    await v.verify(token);
  } catch (err) {
    return `${(err as { kind: string }).kind}:${(err as { code: string }).code}`;
  }
  throw new Error('expected a refusal');
}

describe('dashboard tokens (HS256)', () => {
  it('verifies a token it issued: the organization, the scopes and the key it was exchanged for', async () => {
    const { token, expiresAt, scopes } = await issuer().issue(principal);
    expect(scopes).toEqual(principal.scopes);
    expect(await verifier.verify(token)).toEqual({ organizationId: ORG, scopes: principal.scopes, subject: `api-key:${KEY_ID}`, keyId: KEY_ID, expiresAt });
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(890_000);
  });

  it('refuses a wrong signature, a wrong audience and a wrong issuer, each with its reason', async () => {
    expect(await reason(verifier, (await issuer({ hs256Secret: 'another-secret-of-at-least-32-bytes!!' }).issue(principal)).token)).toBe('unauthenticated:invalid_token_signature');
    expect(await reason(verifier, (await issuer({ audience: 'someone-else' }).issue(principal)).token)).toBe('unauthenticated:wrong_token_audience');
    expect(await reason(verifier, (await issuer({ issuer: 'evil' }).issue(principal)).token)).toBe('unauthenticated:wrong_token_issuer');
    // A flipped character in the payload: the signature no longer matches it.
    const { token } = await issuer().issue(principal);
    const [h, p, s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p ?? '', 'base64url').toString()), scope: 'admin' })).toString('base64url')}.${s}`;
    expect(await reason(verifier, forged)).toBe('unauthenticated:invalid_token_signature');
  });

  it('refuses an expired token, past the clock tolerance only', async () => {
    const issuedAgo = (seconds: number) => issuer({ ttlSeconds: 60 }, () => Date.now() - seconds * 1000);
    expect(await reason(verifier, (await issuedAgo(60 + 31).issue(principal)).token)).toBe('unauthenticated:token_expired');
    // Expired 20 s ago, within the 30 s tolerance: a clock a little behind is not the caller's fault.
    await expect(verifier.verify((await issuedAgo(60 + 20).issue(principal)).token)).resolves.toMatchObject({ organizationId: ORG });
  });

  it('refuses tokens without exp or org_id, garbage, and alg none', async () => {
    const key = new TextEncoder().encode(SECRET);
    const noExp = await new SignJWT({ org_id: ORG }).setProtectedHeader({ alg: 'HS256' }).setIssuer('polaris').setAudience('polaris-graphql').sign(key);
    expect(await reason(verifier, noExp)).toBe('unauthenticated:invalid_token_claims');
    const noOrg = await new SignJWT({ scope: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('polaris').setAudience('polaris-graphql').setExpirationTime('5m').sign(key);
    expect(await reason(verifier, noOrg)).toBe('unauthenticated:invalid_token_claims');
    expect(await reason(verifier, 'a.b.c')).toBe('unauthenticated:malformed_token');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ org_id: ORG, iss: 'polaris', aud: 'polaris-graphql', exp: 9e9 })).toString('base64url')}.x`;
    expect(await reason(verifier, none)).toBe('unauthenticated:token_algorithm_not_accepted');
  });

  it('keeps only the scopes Polaris knows from the scope claim', async () => {
    const token = await new SignJWT({ org_id: ORG, scope: 'openid usage:read profile usage:read' })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer('polaris').setAudience('polaris-graphql').setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    expect((await verifier.verify(token)).scopes).toEqual(['usage:read']);
  });
});

describe('identity provider tokens (a key set)', () => {
  async function provider() {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const keySet: JWTVerifyGetKey = createLocalJWKSet({ keys: [jwk] });
    const sign = (claims: Record<string, unknown>, kid = 'k1') =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('https://idp.test/').setAudience('polaris-graphql').setSubject('user-7').setExpirationTime('5m').sign(privateKey);
    const withKeys = new TokenVerifier({ issuer: 'https://idp.test/', audience: 'polaris-graphql', jwksUrl: 'https://idp.test/jwks.json', clockToleranceSeconds: 30 }, () => keySet);
    return { sign, withKeys };
  }

  it('verifies an ES256 token against the key set; its subject is the actor', async () => {
    const { sign, withKeys } = await provider();
    expect(await withKeys.verify(await sign({ org_id: ORG, scope: 'usage:read' }))).toMatchObject({ organizationId: ORG, scopes: ['usage:read'], keyId: 'user-7' });
  });

  it('refuses an unknown key id, and HS256 tokens when no secret is configured', async () => {
    const { sign, withKeys } = await provider();
    expect(await reason(withKeys, await sign({ org_id: ORG }, 'k2'))).toBe('unauthenticated:unknown_token_key');
    expect(await reason(withKeys, (await issuer().issue(principal)).token)).toBe('unauthenticated:token_algorithm_not_accepted');
  });

  it('never takes an asymmetric token with the HS256 secret alone', async () => {
    const { sign } = await provider();
    expect(await reason(verifier, await sign({ org_id: ORG }))).toBe('unauthenticated:token_algorithm_not_accepted');
  });
});

describe('presentedCredential', () => {
  it('tells API keys and JWTs apart by shape', () => {
    expect(presentedCredential({ authorization: 'Bearer pol_abcd1234_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef' })).toEqual({ kind: 'api_key', key: 'pol_abcd1234_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef' });
    expect(presentedCredential({ 'x-api-key': 'pol_abcd1234_x' })).toEqual({ kind: 'api_key', key: 'pol_abcd1234_x' });
    expect(presentedCredential({ authorization: 'Bearer eyJh.eyJv.c2ln' })).toEqual({ kind: 'jwt', token: 'eyJh.eyJv.c2ln' });
    expect(presentedCredential({})).toBeUndefined();
  });
});
