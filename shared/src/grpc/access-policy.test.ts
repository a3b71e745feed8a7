import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CustomersService, IdentityService, PlansService, SubscriptionsService } from '@polaris/proto';
import { authorizeCall, checkAccessCoversService, type MethodAccess } from './access-policy';

const ORG = randomUUID();
const scoped: MethodAccess = { callers: ['gateway'], organization: 'request' };
const orgLess: MethodAccess = { callers: ['gateway', 'collector'], organization: 'none' };
const attempt = (fn: () => void) => {
  try {
    fn();
    return 'allowed';
  } catch (err) {
    return err;
  }
};

describe('authorizeCall', () => {
  it('lets a listed caller act for the org of its token', () => {
    expect(attempt(() => authorizeCall(scoped, 'm', { caller: 'gateway', organizationId: ORG, tokenId: 't' }, { organizationId: ORG }))).toBe('allowed');
    expect(attempt(() => authorizeCall(orgLess, 'm', { caller: 'collector', tokenId: 't' }, {}))).toBe('allowed');
  });

  it('refuses an unlisted caller, another org, or no org, with PERMISSION_DENIED codes', () => {
    expect(attempt(() => authorizeCall(scoped, 'm', { caller: 'collector', organizationId: ORG, tokenId: 't' }, { organizationId: ORG }))).toMatchObject({
      kind: 'permission_denied',
      code: 'caller_not_allowed',
    });
    expect(attempt(() => authorizeCall(scoped, 'm', { caller: 'gateway', organizationId: ORG, tokenId: 't' }, { organizationId: randomUUID() }))).toMatchObject({
      kind: 'permission_denied',
      code: 'organization_mismatch',
      field: 'organization_id',
    });
    expect(attempt(() => authorizeCall(scoped, 'm', { caller: 'gateway', tokenId: 't' }, { organizationId: ORG }))).toMatchObject({ code: 'organization_mismatch' });
  });

  it('answers a malformed or missing organization id of an org-scoped request INVALID_ARGUMENT', () => {
    for (const request of [{ organizationId: 'nope' }, {}]) {
      expect(attempt(() => authorizeCall(scoped, 'm', { caller: 'gateway', organizationId: ORG, tokenId: 't' }, request))).toMatchObject({
        kind: 'invalid_argument',
        code: 'invalid_organization_id',
      });
    }
  });
});

describe('authorizeCall with a nested reference', () => {
  const as = (organizationId: string) => ({ caller: 'gateway' as const, organizationId, tokenId: 't' });

  it("reads the organization of a request's customer, subscription or plan version reference", () => {
    for (const ref of ['customer', 'subscription', 'version']) {
      expect(attempt(() => authorizeCall(scoped, 'm', as(ORG), { [ref]: { organizationId: ORG } })), ref).toBe('allowed');
      expect(attempt(() => authorizeCall(scoped, 'm', as(ORG), { [ref]: { organizationId: randomUUID() } })), ref).toMatchObject({
        kind: 'permission_denied',
        code: 'organization_mismatch',
      });
    }
  });

  it('prefers a top-level organization id, and refuses a request whose reference is missing', () => {
    const other = randomUUID();
    expect(attempt(() => authorizeCall(scoped, 'm', as(ORG), { organizationId: other, customer: { organizationId: ORG } }))).toMatchObject({
      code: 'organization_mismatch',
    });
    expect(attempt(() => authorizeCall(scoped, 'm', as(ORG), { customer: undefined }))).toMatchObject({ kind: 'invalid_argument', code: 'invalid_organization_id' });
  });
});

describe('checkAccessCoversService', () => {
  it('accepts a rule for each method', () => {
    expect(() => checkAccessCoversService('polaris.v1.Identity', IdentityService, { validateApiKey: orgLess, getOrganization: scoped })).not.toThrow();
  });

  it('counts a reference holding the organization id as the organization of the request', () => {
    for (const [name, definition] of [
      ['polaris.v1.Customers', CustomersService],
      ['polaris.v1.Plans', PlansService],
      ['polaris.v1.Subscriptions', SubscriptionsService],
    ] as const) {
      const access = Object.fromEntries(Object.keys(definition).map((method) => [method, scoped]));
      expect(() => checkAccessCoversService(name, definition, access)).not.toThrow();
    }
  });

  it('names every method without a rule, and an org-scoped method whose request has no organization_id', () => {
    expect(() => checkAccessCoversService('polaris.v1.Identity', IdentityService, { validateApiKey: scoped })).toThrow(
      'polaris.v1.Identity: validateApiKey is organization-scoped but its request has no organization_id; getOrganization has no access rule',
    );
    expect(() => checkAccessCoversService('polaris.v1.Identity', IdentityService, { validateApiKey: orgLess, getOrganization: { ...scoped, callers: [] } })).toThrow(
      /getOrganization lets no caller in/,
    );
  });
});
