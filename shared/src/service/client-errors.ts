import { randomBytes } from 'node:crypto';
import type { ErrorKind, PolarisError } from '../errors';
import { currentTraceId } from './tracing';

/** An error as a client sees it: the public HTTP bodies and GraphQL `extensions` share this. */
export interface ClientError {
  code: string;
  message: string;
  field?: string;
  /** Finds the detail in the logs (and the trace): the active trace id, when there is one. */
  requestId?: string;
}

// An outage or a bug can carry what only operators may read: a backend's DNS name and port
// ("Name resolution failed for target dns:///rating-worker-grpc…"), a peer address
// ("remote_addr=…"), a driver's message. The code still says which dependency and what to do.
const GENERIC_MESSAGES: Partial<Record<ErrorKind, string>> = {
  unavailable: 'a service this request needs is unavailable; retry with backoff',
  internal: 'internal error',
};

/**
 * The error as a client may see it. Internal and unavailable errors keep their code and get a
 * generic message and a request id; the caller logs the original (`masked`) with that id.
 * Client errors keep their message: it is the help the caller needs.
 */
export function toClientError(err: PolarisError): { body: ClientError; masked: boolean } {
  const generic = GENERIC_MESSAGES[err.kind];
  if (generic === undefined) return { body: err.toJSON(), masked: false };
  return { body: { code: err.code, message: generic, requestId: currentTraceId() ?? randomBytes(16).toString('hex') }, masked: true };
}
