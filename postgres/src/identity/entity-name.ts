import { PolarisError } from '@polaris/shared/errors';

/**
 * Organization and API key names: trimmed, then 1 to 200 characters, as the CHECK constraints of
 * postgres/migrations/1700000000001_identity.sql demand; refused here with a message a person can
 * act on, before the database would refuse it with a constraint name.
 */
export function requireEntityName(entity: 'organization' | 'API key', value: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 200) {
    const code = entity === 'organization' ? 'invalid_organization_name' : 'invalid_api_key_name';
    throw new PolarisError('invalid_argument', code, `${entity} name must be 1 to 200 characters`, 'name');
  }
  return name;
}
