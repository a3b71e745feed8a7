import { requireOrganizationId } from '@polaris/shared/contracts';
import { PolarisError } from '@polaris/shared/errors';
import { checkMeterSlug } from '@polaris/shared/meters';
import type { Queryable } from '../pool';

// Checks of a meter's free text and of the organization, before the database would refuse them
// with a constraint name (postgres/migrations/1700000000002_meters.sql).

export const MAX_METER_NAME = 200;
export const MAX_METER_DESCRIPTION = 2000;

// PostgreSQL text cannot hold U+0000 (it refuses it with 22021, which would surface as a 500).
const NUL = '\u0000';

export function meterName(value: string): string {
  const name = value.trim();
  if (name.includes(NUL)) throw new PolarisError('invalid_argument', 'invalid_meter_name', 'name must not contain a NUL character', 'name');
  if (name.length < 1 || name.length > MAX_METER_NAME) {
    throw new PolarisError('invalid_argument', 'invalid_meter_name', `name must be 1 to ${MAX_METER_NAME} characters`, 'name');
  }
  return name;
}

export function meterDescription(value: string): string {
  const description = value.trim();
  if (description.includes(NUL)) {
    throw new PolarisError('invalid_argument', 'invalid_meter_description', 'description must not contain a NUL character', 'description');
  }
  if (description.length > MAX_METER_DESCRIPTION) {
    throw new PolarisError('invalid_argument', 'invalid_meter_description', `description must be at most ${MAX_METER_DESCRIPTION} characters`, 'description');
  }
  return description;
}

/** The organization must exist: a meter of an unknown one is refused by name, not by a foreign key. */
export async function requireOrganization(db: Queryable, organizationId: string): Promise<void> {
  requireOrganizationId(organizationId);
  const { rows } = await db.query('SELECT 1 FROM organizations WHERE id = $1::uuid', [organizationId]);
  if (rows.length === 0) throw new PolarisError('not_found', 'organization_not_found', 'organization not found', 'organization_id');
}

/**
 * A slug that could never have been created (a NUL, 10 kB of text) names no meter: answered as
 * not found without asking PostgreSQL, which would refuse a NUL with an error.
 */
export function isPossibleSlug(slug: string): boolean {
  try {
    checkMeterSlug(slug);
    return true;
  } catch {
    return false;
  }
}

export const meterNotFound = (slug: string): PolarisError =>
  new PolarisError('not_found', 'meter_not_found', `no meter with slug ${JSON.stringify(slug.length > 64 ? `${slug.slice(0, 64)}…` : slug)} in this organization`, 'slug');

export const meterArchived = (slug: string): PolarisError =>
  new PolarisError('failed_precondition', 'meter_archived', `meter ${JSON.stringify(slug)} is archived; create a meter with another slug`, 'slug');
