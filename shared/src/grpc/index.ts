// @polaris/shared/grpc: servers (health, metrics, errors as gRPC statuses, trace context, caller
// tokens checked against each service's access rules) and the clients' channel settings, token
// minting and unary calls.
export {
  createUnaryWrapper,
  startGrpcServer,
  type GrpcServer,
  type GrpcServiceBinding,
  type RpcContext,
  type UnaryWrapper,
} from './server';
export { callUnary, channelOptions, idempotentReadClientOptions, insecureChannel, internalClientOptions, type CallScope } from './client';
export { type MethodAccess, type ServiceAccess } from './access-policy';
export { internalAuthConfigSchema, type InternalAuthConfig } from './internal-auth-config';
export { createInternalAuth, INTERNAL_CALLERS, type CallerClaims, type InternalAuth, type InternalCaller } from './internal-token';
