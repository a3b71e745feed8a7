import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from './token-verifier';

// The key set over real HTTP, as jose's createRemoteJWKSet fetches and caches it in production.

const ORG = '6f1c1c8e-4d6f-4c59-9a8e-0a4a7d1d2b11';

describe('TokenVerifier with a remote key set (JWT_JWKS_URL)', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  let answer: 'keys' | 'error' = 'keys';
  let sign: (kid: string, claims?: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    sign = (kid, claims = {}) =>
      new SignJWT({ org_id: ORG, scope: 'usage:read', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer('https://idp.test/')
        .setAudience('polaris-graphql')
        .setExpirationTime('5m')
        .sign(privateKey);
    server = createServer((_req, res) => {
      fetches++;
      if (answer === 'error') {
        res.writeHead(500).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks.json`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const verifierFor = (jwksUrl: string) => new TokenVerifier({ issuer: 'https://idp.test/', audience: 'polaris-graphql', jwksUrl, clockToleranceSeconds: 30 });

  it('fetches the key set once and verifies every token against the cached copy', async () => {
    const verifier = verifierFor(url);
    fetches = 0;
    for (let i = 0; i < 5; i++) expect(await verifier.verify(await sign('k1'))).toMatchObject({ organizationId: ORG, scopes: ['usage:read'] });
    expect(fetches).toBe(1);
  });

  it('refuses a token whose key is not in the set: unknown_token_key', async () => {
    const verifier = verifierFor(url);
    await expect(verifier.verify(await sign('k9'))).rejects.toMatchObject({ kind: 'unauthenticated', code: 'unknown_token_key' });
  });

  it('a key set that cannot be fetched is an outage (503 jwks_unavailable), never a 500', async () => {
    answer = 'error';
    try {
      await expect(verifierFor(url).verify(await sign('k1'))).rejects.toMatchObject({ kind: 'unavailable', code: 'jwks_unavailable' });
      await expect(verifierFor('http://127.0.0.1:1/jwks.json').verify(await sign('k1'))).rejects.toMatchObject({ kind: 'unavailable', code: 'jwks_unavailable' });
    } finally {
      answer = 'keys';
    }
  });
});
