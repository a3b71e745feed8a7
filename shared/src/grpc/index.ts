// @polaris/shared/grpc: servers (health, metrics, errors as gRPC statuses, trace context) and
// the clients' channel settings and unary calls.
export {
  createUnaryWrapper,
  startGrpcServer,
  type GrpcServer,
  type GrpcServiceBinding,
  type RpcContext,
  type UnaryWrapper,
} from './server';
export { callUnary, channelOptions, insecureChannel } from './client';
