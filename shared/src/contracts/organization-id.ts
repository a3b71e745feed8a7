import { PolarisError } from '../errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Internal RPCs carry the organization id their caller took from a credential. It is still
 * checked at every service boundary: a malformed id is a caller bug and must fail loudly, not
 * reach a query as an empty tenant.
 */
export function requireOrganizationId(value: string): string {
  if (!UUID.test(value)) {
    throw new PolarisError('invalid_argument', 'invalid_organization_id', 'organization_id must be a UUID', 'organization_id');
  }
  return value;
}
