import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { PolarisError, type ErrorKind } from '../errors';
import { CALL_REFUSAL_CODES } from './internal-token';

const grpcStatusByKind: Record<ErrorKind, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  payload_too_large: status.RESOURCE_EXHAUSTED,
  unsupported_media_type: status.INVALID_ARGUMENT,
  rate_limited: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

const kindByGrpcStatus = new Map<status, ErrorKind>([
  [status.INVALID_ARGUMENT, 'invalid_argument'],
  [status.UNAUTHENTICATED, 'unauthenticated'],
  [status.PERMISSION_DENIED, 'permission_denied'],
  [status.NOT_FOUND, 'not_found'],
  [status.ALREADY_EXISTS, 'already_exists'],
  [status.FAILED_PRECONDITION, 'failed_precondition'],
  [status.RESOURCE_EXHAUSTED, 'payload_too_large'],
  [status.UNAVAILABLE, 'unavailable'],
  [status.DEADLINE_EXCEEDED, 'unavailable'],
]);

// The domain code and field ride in trailing metadata so a PolarisError survives a hop intact.
const CODE_KEY = 'polaris-error-code';
const FIELD_KEY = 'polaris-error-field';

export function toServiceError(err: PolarisError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(CODE_KEY, err.code);
  if (err.field) metadata.set(FIELD_KEY, err.field);
  return { code: grpcStatusByKind[err.kind], details: err.message, metadata };
}

export function fromServiceError(err: ServiceError, peer: string): PolarisError {
  const kind = kindByGrpcStatus.get(err.code) ?? 'internal';
  const code = err.metadata?.get(CODE_KEY)[0]?.toString();
  const field = err.metadata?.get(FIELD_KEY)[0]?.toString();
  // A refused internal call is this deployment's fault (a secret or a policy), not the end
  // user's: it must not reach them as a 401/403 about their key, nor be cached as one. The
  // refusing server logs why; the end user gets no more than the code.
  if (code && CALL_REFUSAL_CODES.has(code)) {
    return new PolarisError('internal', code, `the ${peer} service refused an internal call (${code}); its log says why`);
  }
  if (code) return new PolarisError(kind, code, err.details, field);
  if (kind === 'unavailable') {
    return new PolarisError('unavailable', `${peer}_unavailable`, `${peer} service is unavailable: ${err.details}`);
  }
  return new PolarisError(kind, kind, err.details);
}
