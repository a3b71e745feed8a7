import type { ApiKeyScope } from '@polaris/shared/auth';
import { PolarisError } from '@polaris/shared/errors';
import { callUnary, type CallScope } from '@polaris/shared/grpc';
import { camelCaseField, inArgumentTerms } from './argument-names';
import type { GatewayContext } from './context';

/** Reading billing takes billing:read; a key that may write billing may read it too. */
const READ_SCOPES: readonly ApiKeyScope[] = ['billing:read', 'billing:write'];

/** The organization of a key that may read billing. */
export async function billingReader(ctx: GatewayContext): Promise<string> {
  return (await ctx.principal(READ_SCOPES)).organizationId;
}

/** The organization of a key that may change billing, and who acts, as an invoice's history records it. */
export async function billingWriter(ctx: GatewayContext): Promise<{ organizationId: string; actor: string }> {
  const { organizationId, keyId } = await ctx.principal('billing:write');
  return { organizationId, actor: `api-key:${keyId}` };
}

type UnaryMethod<Req, Res> = Parameters<typeof callUnary<Req, Res>>[1];

/**
 * Calls a billing service for the organization, with the call's deadline; a refusal names the
 * argument the GraphQL caller sent (`rename`), not the proto field.
 */
export function callBilling<Req, Res>(
  ctx: GatewayContext,
  method: UnaryMethod<Req, Res>,
  request: Req,
  organizationId: string,
  rename: (field: string) => string = camelCaseField,
): Promise<Res> {
  const scope: CallScope = { actingFor: organizationId };
  return callUnary('billing', method, request, ctx.deadlineMs, scope).catch((err: unknown) => {
    throw inArgumentTerms(err, rename);
  });
}

/**
 * A renaming of proto fields into the caller's arguments: `exact` names first (`customer_id` →
 * `id`), else the field camel-cased under `prefix` (`prices[1].unit_price` → `input.prices[1].unitPrice`).
 */
export function argumentsNamed(exact: Readonly<Record<string, string>>, prefix = ''): (field: string) => string {
  return (field) => exact[field] ?? `${prefix}${camelCaseField(field)}`;
}

/**
 * One of two ways to name a thing (a customer by `id` or by `externalId`), exactly one given.
 * Checked here so the refusal speaks of the caller's arguments, not of the proto's.
 */
export function exactlyOne(values: Record<string, string | null | undefined>): void {
  const given = Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (given.length === 1) return;
  const names = Object.keys(values);
  const [first = 'id'] = names;
  throw new PolarisError('invalid_argument', 'invalid_reference', `give ${names.join(' or ')}, exactly one`, given.length === 0 ? first : (given[1]?.[0] ?? first));
}
