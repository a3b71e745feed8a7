import { describe, expect, it } from 'vitest';
import { PolarisError } from '@polaris/shared/errors';
import { blockedRange, BlockedTargetError, checkLiteralTarget, guardedLookup, requirePublicTarget } from './target-guard';

describe('webhook target guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
  ])('refuses %s (%s)', (address, range) => {
    expect(blockedRange(address)).toBe(range);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111'])('admits the public address %s', (address) => {
    expect(blockedRange(address)).toBeUndefined();
  });

  it('checks IP literals in URLs, bracketed IPv6 included, and leaves names to the lookup', () => {
    expect(() => checkLiteralTarget(new URL('http://127.0.0.1:8080/hook'))).toThrow(BlockedTargetError);
    expect(() => checkLiteralTarget(new URL('http://[::1]/hook'))).toThrow(BlockedTargetError);
    expect(() => checkLiteralTarget(new URL('http://169.254.169.254/latest/meta-data'))).toThrow(/link/i);
    expect(() => checkLiteralTarget(new URL('https://8.8.8.8/hook'))).not.toThrow();
    expect(() => checkLiteralTarget(new URL('https://hooks.example.com/x'))).not.toThrow();
  });

  it('refuses a name by the addresses it resolves to, not by its spelling', async () => {
    // `localhost` is a name: only the resolved 127.0.0.1 / ::1 reveals where it goes.
    const err = await new Promise<Error | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    expect(err).toBeInstanceOf(BlockedTargetError);
    expect(err?.message).toMatch(/localhost resolves to .* \(loopback\)/);
  });

  it('names the field when a URL to register reaches a private range', async () => {
    const refused = await requirePublicTarget(new URL('http://localhost:9000/hook')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PolarisError);
    expect(refused).toMatchObject({ kind: 'invalid_argument', code: 'private_url', field: 'url' });
    const literal = await requirePublicTarget(new URL('http://10.0.0.5/hook'), 'url').catch((e: unknown) => e);
    expect(literal).toMatchObject({ code: 'private_url', field: 'url' });
  });
});
