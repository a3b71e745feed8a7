import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localInternalAuthSecret } from './internal-auth-secret';

describe('localInternalAuthSecret', () => {
  it('makes one random secret per checkout, long enough for the services, readable by its owner only', () => {
    const [a, b] = [mkdtempSync(path.join(os.tmpdir(), 'polaris-secret-')), mkdtempSync(path.join(os.tmpdir(), 'polaris-secret-'))];
    const secret = localInternalAuthSecret(a);
    expect(Buffer.byteLength(secret)).toBeGreaterThanOrEqual(32);
    expect(localInternalAuthSecret(a)).toBe(secret);
    expect(localInternalAuthSecret(b)).not.toBe(secret);
    expect(statSync(path.join(a, '.stack', 'internal-auth-secret')).mode & 0o777).toBe(0o600);
    // No drafts left behind.
    expect(readdirSync(path.join(a, '.stack'))).toEqual(['internal-auth-secret']);
  });
});
