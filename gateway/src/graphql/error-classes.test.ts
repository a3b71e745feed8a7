import { describe, expect, it } from 'vitest';
import { PolarisError, type ErrorKind } from '@polaris/shared/errors';
import { classifiedDocumentError, ERROR_CLASSES, errorClassOf } from './error-classes';
import { toGraphQLError } from './errors';

const KINDS: ErrorKind[] = [
  'invalid_argument',
  'unauthenticated',
  'permission_denied',
  'not_found',
  'already_exists',
  'failed_precondition',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
];

describe('error classes', () => {
  it('every kind of PolarisError has one of the six classes', () => {
    const classes = KINDS.map((kind) => errorClassOf({ kind, code: 'x' }));
    for (const c of classes) expect(ERROR_CLASSES).toContain(c);
    expect(Object.fromEntries(KINDS.map((k, i) => [k, classes[i]]))).toEqual({
      invalid_argument: 'BAD_USER_INPUT',
      unauthenticated: 'UNAUTHENTICATED',
      permission_denied: 'FORBIDDEN',
      not_found: 'NOT_FOUND',
      already_exists: 'BAD_USER_INPUT',
      failed_precondition: 'BAD_USER_INPUT',
      payload_too_large: 'BAD_USER_INPUT',
      unsupported_media_type: 'BAD_USER_INPUT',
      rate_limited: 'RATE_LIMITED',
      unavailable: 'INTERNAL',
      internal: 'INTERNAL',
    });
  });

  it('a rate limit is RATE_LIMITED even when gRPC carried it as RESOURCE_EXHAUSTED (payload_too_large)', () => {
    expect(errorClassOf({ kind: 'payload_too_large', code: 'rate_limited' })).toBe('RATE_LIMITED');
    expect(errorClassOf({ kind: 'payload_too_large', code: 'batch_too_large' })).toBe('BAD_USER_INPUT');
  });

  it('a resolver error keeps the product code as the reason and the field, with its HTTP status', () => {
    const err = toGraphQLError(new PolarisError('not_found', 'meter_not_found', 'no meter "x"', 'metric'));
    expect(err.message).toBe('no meter "x"');
    expect(err.extensions).toEqual({ code: 'NOT_FOUND', reason: 'meter_not_found', field: 'metric', http: { status: 404 } });
    const conflict = toGraphQLError(new PolarisError('failed_precondition', 'invalid_invoice_transition', 'invoice is paid', 'invoice_id'));
    expect(conflict.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'invalid_invoice_transition', http: { status: 409 } });
  });

  it("graphql-js and Yoga's own errors become BAD_USER_INPUT, their code the reason; a class is left alone", () => {
    expect(classifiedDocumentError({ code: 'GRAPHQL_VALIDATION_FAILED' })).toEqual({ code: 'BAD_USER_INPUT', reason: 'graphql_validation_failed' });
    expect(classifiedDocumentError({ http: { status: 400 } })).toEqual({ code: 'BAD_USER_INPUT', reason: 'invalid_request', http: { status: 400 } });
    const classed = { code: 'BAD_USER_INPUT', reason: 'too_many_aliases', limit: 'GRAPHQL_MAX_ALIASES' };
    expect(classifiedDocumentError(classed)).toBe(classed);
  });
});
