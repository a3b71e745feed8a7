import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { trace, type Tracer } from '@opentelemetry/api';

export interface Telemetry {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

/**
 * Must run before anything else in main.ts. Without an OTLP endpoint the SDK still installs
 * context propagation (W3C traceparent), so trace ids flow through gRPC metadata and broker
 * headers, but nothing is exported.
 */
export function initTelemetry(serviceName: string, otlpEndpoint?: string): Telemetry {
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    spanProcessors: otlpEndpoint
      ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/traces` }))]
      : [],
    instrumentations: [],
  });
  sdk.start();
  return { tracer: trace.getTracer(serviceName), shutdown: () => sdk.shutdown() };
}
