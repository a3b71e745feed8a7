import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';

// Checks of the catalog's free text (customers, plans), before the database would refuse it with a
// constraint name (postgres/migrations/1700000000004_billing.sql), and the refusals the
// repositories share. Fields are named as the proto names them.

// PostgreSQL text cannot hold U+0000 (it refuses it with 22021, which would surface as a 500).
const NUL = '\u0000';
export const PLAN_KEY_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

function text(value: string, field: string, code: string, min: number, max: number): string {
  if (value.includes(NUL)) throw new PolarisError('invalid_argument', code, `${field} must not contain a NUL character`, field);
  if (value.length < min || value.length > max) {
    const size = min === 0 ? `at most ${max}` : `${min} to ${max}`;
    throw new PolarisError('invalid_argument', code, `${field} must be ${size} characters`, field);
  }
  return value;
}

/** The customer's id in the org's own system: kept as given (it is a key), 1 to 200 characters. */
export const externalId = (value: string, field = 'external_id'): string => {
  if (value.trim() !== value) throw new PolarisError('invalid_argument', 'invalid_external_id', `${field} must not start or end with spaces`, field);
  return text(value, field, 'invalid_external_id', 1, 200);
};
export const entityName = (value: string, field = 'name'): string => text(value.trim(), field, 'invalid_name', 1, 200);
export const planDescription = (value: string): string => text(value.trim(), 'description', 'invalid_description', 0, 2000);

/** Empty, or something that looks like an address; whether it receives mail is not ours to know. */
export function email(value: string): string {
  const address = text(value.trim(), 'email', 'invalid_email', 0, 320);
  if (address !== '' && !EMAIL_SHAPE.test(address)) {
    throw new PolarisError('invalid_argument', 'invalid_email', `email ${JSON.stringify(address)} is not an email address`, 'email');
  }
  return address;
}

/**
 * A list of CloudEvents subjects: each 1 to 256 characters, named `subjects[i]` when refused.
 * Repeats are dropped (the first spelling's index is the one reported later).
 */
export function subjectList(values: readonly string[], opts: { atLeastOne: boolean }): string[] {
  if (opts.atLeastOne && values.length === 0) throw new PolarisError('invalid_argument', 'subjects_required', 'give at least one subject', 'subjects');
  values.forEach((subject, i) => text(subject, `subjects[${i}]`, 'invalid_subject', 1, 256));
  return values.filter((subject, i) => values.indexOf(subject) === i);
}

export function planKey(value: string, field = 'key'): string {
  if (!PLAN_KEY_PATTERN.test(value)) {
    throw new PolarisError('invalid_argument', 'invalid_plan_key', `${field} must match ${PLAN_KEY_PATTERN.source} (lower case, digits, _)`, field);
  }
  return value;
}

/** A version number as the API takes it: 1 or more (0 means "the newest published" only where said). */
export function versionNumber(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new PolarisError('invalid_argument', 'invalid_plan_version', `${field} must be a version number, 1 or more`, field);
  }
  return value;
}

/** A UUID can name a row; anything else names nothing, answered as not found without asking PostgreSQL. */
export const isUuid = (value: string): boolean => z.guid().safeParse(value).success;

const shown = (value: string): string => JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);

export const customerNotFound = (field: 'customer_id' | 'external_id', value: string): PolarisError =>
  new PolarisError('not_found', 'customer_not_found', `no customer with ${field === 'customer_id' ? 'id' : 'external id'} ${shown(value)} in this organization`, field);

export const customerArchived = (external: string): PolarisError =>
  new PolarisError('failed_precondition', 'customer_archived', `customer ${shown(external)} is archived`, 'customer');

export const planNotFound = (key: string, field = 'key'): PolarisError =>
  new PolarisError('not_found', 'plan_not_found', `no plan with key ${shown(key)} in this organization`, field);

export const planArchived = (key: string, field = 'key'): PolarisError =>
  new PolarisError('failed_precondition', 'plan_archived', `plan ${shown(key)} is archived`, field);

export const planVersionNotFound = (key: string, version: number, field: string): PolarisError =>
  new PolarisError('not_found', 'plan_version_not_found', `plan ${shown(key)} has no version ${version}`, field);

export const subscriptionNotFound = (id: string): PolarisError =>
  new PolarisError('not_found', 'subscription_not_found', `no subscription with id ${shown(id)} in this organization`, 'subscription_id');
