/**
 * The one error type that crosses service boundaries. `code` is stable and machine-readable,
 * `field` names the offending input when there is one. Transport adapters map `kind` to an HTTP
 * status or a gRPC status; nothing else decides status codes.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export class PolarisError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PolarisError';
  }

  toJSON(): { code: string; message: string; field?: string } {
    return { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}

const httpStatusByKind: Record<ErrorKind, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export function httpStatusOf(err: PolarisError): number {
  return httpStatusByKind[err.kind];
}

/** Anything that is not already a PolarisError becomes an opaque internal error. */
export function asPolarisError(err: unknown): PolarisError {
  if (err instanceof PolarisError) return err;
  return new PolarisError('internal', 'internal', 'internal error');
}
