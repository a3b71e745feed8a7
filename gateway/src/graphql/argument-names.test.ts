import { describe, expect, it } from 'vitest';
import { PolarisError } from '@polaris/shared/errors';
import { camelCaseField, inArgumentTerms } from './argument-names';

describe('inArgumentTerms', () => {
  it('renames the field of a refusal into the argument the GraphQL caller sent, keeping kind, code and message', () => {
    const err = new PolarisError('invalid_argument', 'invalid_path', 'value_path must start with $', 'dimensions[2].value_path');
    const renamed = inArgumentTerms(err, (f) => `input.${camelCaseField(f)}`) as PolarisError;
    expect(renamed).toBeInstanceOf(PolarisError);
    expect({ kind: renamed.kind, code: renamed.code, message: renamed.message, field: renamed.field }).toEqual({
      kind: 'invalid_argument',
      code: 'invalid_path',
      message: 'value_path must start with $',
      field: 'input.dimensions[2].valuePath',
    });
  });

  it('leaves errors without a field, and other errors, as they are', () => {
    const noField = new PolarisError('invalid_argument', 'sum_out_of_range', 'too large');
    expect(inArgumentTerms(noField, () => 'x')).toBe(noField);
    const plain = new Error('boom');
    expect(inArgumentTerms(plain, () => 'x')).toBe(plain);
  });
});
