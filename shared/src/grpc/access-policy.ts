import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { requireOrganizationId } from '../contracts/organization-id';
import { PolarisError } from '../errors';
import type { CallerClaims, InternalCaller } from './internal-token';

/** Who may call one method, and for which organization. */
export interface MethodAccess {
  /** The services (a token's `iss`) allowed to call it. */
  callers: readonly InternalCaller[];
  /**
   * 'request': the method acts for the request's `organization_id`, which must be the token's
   * `org` (from the API key the caller validated). 'none': it acts for no single organization
   * (ValidateApiKey, the sink's catalog sync); a token's `org`, if any, is not looked at.
   */
  organization: 'request' | 'none';
}

/** The access rule of every method of a service, by the method's name in its definition (`getOrganization`). */
export type ServiceAccess = Readonly<Record<string, MethodAccess>>;

/**
 * Requests that name one resource by a reference message (`UpdateCustomerRequest.customer`,
 * `ChangeSubscriptionPlanRequest.subscription`, `UpdatePlanVersionRequest.version`) carry the
 * organization_id inside that reference, not beside it.
 */
const ORGANIZATION_REFS = ['customer', 'subscription', 'version'] as const;

/** The organization a request acts for: its own `organizationId`, else its reference's. */
function requestOrganizationId(request: unknown): unknown {
  if (typeof request !== 'object' || request === null) return undefined;
  if ('organizationId' in request) return request.organizationId;
  for (const field of ORGANIZATION_REFS) {
    const ref: unknown = (request as Record<string, unknown>)[field];
    if (typeof ref === 'object' && ref !== null && 'organizationId' in ref) return ref.organizationId;
  }
  return undefined;
}

/**
 * Whether the method's empty request (all defaults, as ts-proto decodes it) has the field, or a
 * reference that holds it (decoded empty as undefined, so only its presence can be seen); true
 * when that cannot be told.
 */
function hasOrganizationId(method: MethodDefinition<unknown, unknown>): boolean {
  let empty: unknown;
  try {
    empty = method.requestDeserialize(Buffer.alloc(0));
  } catch {
    return true;
  }
  return typeof empty === 'object' && empty !== null && ('organizationId' in empty || ORGANIZATION_REFS.some((field) => field in empty));
}

/**
 * Checks, before the server listens, that `access` covers exactly the service's methods, and
 * that each org-scoped method's request has an `organizationId` to compare: a method without a
 * rule would be a method nobody thought about.
 */
export function checkAccessCoversService(serviceName: string, definition: ServiceDefinition, access: ServiceAccess): void {
  const methods = Object.entries(definition as Record<string, MethodDefinition<unknown, unknown>>);
  const problems: string[] = [];
  for (const [name, method] of methods) {
    const rule = access[name];
    if (!rule) problems.push(`${name} has no access rule`);
    else if (rule.callers.length === 0) problems.push(`${name} lets no caller in`);
    else if (rule.organization === 'request' && !hasOrganizationId(method)) {
      problems.push(`${name} is organization-scoped but its request has no organization_id`);
    }
    if (method.requestStream || method.responseStream) problems.push(`${name} streams: only unary methods are authenticated`);
  }
  for (const name of Object.keys(access)) {
    if (!methods.some(([m]) => m === name)) problems.push(`access names ${name}, which the service does not have`);
  }
  if (problems.length > 0) throw new Error(`${serviceName}: ${problems.join('; ')}`);
}

/**
 * Whether a verified caller may make this call: PERMISSION_DENIED when the caller is not listed,
 * or when an org-scoped request names another organization than its token. A malformed
 * organization id is INVALID_ARGUMENT, as from the handler itself.
 */
export function authorizeCall(rule: MethodAccess, method: string, claims: CallerClaims, request: unknown): void {
  if (!rule.callers.includes(claims.caller)) {
    throw new PolarisError('permission_denied', 'caller_not_allowed', `${claims.caller} may not call ${method}`);
  }
  if (rule.organization === 'none') return;
  const requested = requireOrganizationId(String(requestOrganizationId(request) ?? ''));
  if (claims.organizationId === undefined) {
    throw new PolarisError('permission_denied', 'organization_mismatch', `${method} acts for one organization, and the caller token names none`);
  }
  if (claims.organizationId !== requested) {
    throw new PolarisError('permission_denied', 'organization_mismatch', 'the request is for another organization than the caller token', 'organization_id');
  }
}
