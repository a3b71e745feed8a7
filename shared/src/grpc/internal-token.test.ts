import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../config';
import { internalAuthConfigSchema } from './internal-auth-config';
import { createInternalAuth, MAX_TOKEN_LIFETIME_S, TOKEN_REUSE_MS } from './internal-token';

const secret = () => randomBytes(32).toString('base64');

describe('internal auth configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(internalAuthConfigSchema, env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.join('\n');
      throw err;
    }
    return '';
  };

  it('refuses to start without INTERNAL_AUTH_SECRET, saying what it is and how to make one', () => {
    expect(problems({})).toMatch(/^INTERNAL_AUTH_SECRET: required: the secret that signs internal gRPC calls \(at least 32 bytes.*openssl rand/);
  });

  it('refuses a secret shorter than 32 bytes, current or previous', () => {
    expect(problems({ INTERNAL_AUTH_SECRET: 'CHANGE-ME' })).toMatch(/^INTERNAL_AUTH_SECRET: too short: must be at least 32 bytes/);
    expect(problems({ INTERNAL_AUTH_SECRET: secret(), INTERNAL_AUTH_SECRET_PREVIOUS: 'x'.repeat(31) })).toMatch(/^INTERNAL_AUTH_SECRET_PREVIOUS: too short/);
    expect(problems({ INTERNAL_AUTH_SECRET: 'x'.repeat(32) })).toBe('');
  });
});

describe('internal tokens', () => {
  afterEach(() => vi.useRealTimers());

  it('are minted afresh once the reuse period is over, and a verified token is refused once it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const config = { INTERNAL_AUTH_SECRET: secret() };
    const client = createInternalAuth(config, 'gateway');
    const server = createInternalAuth(config, 'sink-worker');
    const first = await client.mint('polaris.v1.Usage');
    expect((await server.verify(first, 'polaris.v1.Usage')).caller).toBe('gateway');
    vi.advanceTimersByTime(TOKEN_REUSE_MS + 1);
    const second = await client.mint('polaris.v1.Usage');
    expect(decodeJwt(second).jti).not.toBe(decodeJwt(first).jti);
    // The first token was verified (and remembered); past its lifetime it is refused all the same.
    vi.advanceTimersByTime(MAX_TOKEN_LIFETIME_S * 1000);
    await expect(server.verify(first, 'polaris.v1.Usage')).rejects.toMatchObject({ kind: 'unauthenticated' });
  });

  it('carry the calling service, the audience, the org, a unique id and a lifetime within the limit', async () => {
    const auth = createInternalAuth({ INTERNAL_AUTH_SECRET: secret() }, 'gateway');
    const org = randomUUID();
    const [a, b] = [await auth.mint('polaris.v1.Usage', org), await auth.mint('polaris.v1.Usage', org)];
    expect(decodeProtectedHeader(a)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(a);
    expect(claims).toMatchObject({ iss: 'gateway', aud: 'polaris.v1.Usage', org });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(MAX_TOKEN_LIFETIME_S);
    expect(Math.abs((claims.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    // The same audience and org within TOKEN_REUSE_MS get the same token (signing is not per call).
    expect(b).toBe(a);
    expect(decodeJwt(await auth.mint('polaris.v1.Usage', randomUUID())).jti).not.toBe(claims.jti);
    expect(decodeJwt(await auth.mint('polaris.v1.Identity'))).not.toHaveProperty('org');
  });

  it('verify into the caller and the org, for the audience they were minted for only', async () => {
    const config = { INTERNAL_AUTH_SECRET: secret() };
    const org = randomUUID();
    const token = await createInternalAuth(config, 'collector').mint('polaris.v1.Identity', org);
    const server = createInternalAuth(config, 'rating-worker');
    expect(await server.verify(token, 'polaris.v1.Identity')).toMatchObject({ caller: 'collector', organizationId: org });
    await expect(server.verify(token, 'polaris.v1.Usage')).rejects.toMatchObject({ kind: 'unauthenticated', code: 'wrong_token_audience' });
    await expect(server.verify(undefined, 'polaris.v1.Identity')).rejects.toMatchObject({ kind: 'unauthenticated', code: 'missing_internal_token' });
  });

  it('verify under the previous secret during a rotation, and sign only with the current one', async () => {
    const [oldSecret, newSecret] = [secret(), secret()];
    const rotated = createInternalAuth({ INTERNAL_AUTH_SECRET: newSecret, INTERNAL_AUTH_SECRET_PREVIOUS: oldSecret }, 'rating-worker');
    const fromOld = await createInternalAuth({ INTERNAL_AUTH_SECRET: oldSecret }, 'gateway').mint('polaris.v1.Identity');
    expect((await rotated.verify(fromOld, 'polaris.v1.Identity')).caller).toBe('gateway');
    const fromRotated = await rotated.mint('polaris.v1.Identity');
    await expect(createInternalAuth({ INTERNAL_AUTH_SECRET: oldSecret }, 'gateway').verify(fromRotated, 'polaris.v1.Identity')).rejects.toMatchObject({
      code: 'invalid_internal_token',
    });
    expect((await createInternalAuth({ INTERNAL_AUTH_SECRET: newSecret }, 'gateway').verify(fromRotated, 'polaris.v1.Identity')).caller).toBe('rating-worker');
  });
});
