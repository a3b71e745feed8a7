// @polaris/shared/service: how a service runs. Start and ordered shutdown (runService), the ops
// server's health checks, logs, metrics, telemetry and the spans of its entry points.
export { runService, type BuiltService, type ServiceContext, type Stoppable } from './lifecycle';
export type { LivenessCheck, ReadinessCheck } from './ops-server';
export { createLogger, type Logger } from './logger';
export { createMetricsRegistry } from './metrics';
export { createHttpMetrics, type HttpRequestObserver } from './http-metrics';
export { currentTraceId, inBatchSpan, inServerSpan } from './tracing';
export { toClientError, type ClientError } from './client-errors';
