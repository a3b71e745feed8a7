import { z } from 'zod';
import { baseConfigSchema, loadConfig } from '@polaris/shared/config';
import { withKafkaConfig } from '@polaris/shared/kafka';
import { EVENTS_TOPIC, SERVICE_PORTS } from '@polaris/shared/contracts';
import { internalAuthConfigSchema } from '@polaris/shared/grpc';

const port = z.coerce.number().int().min(0).max(65535);

/** Exported so the deploy tests can check every deployment sets each variable it must (k8s/deploy-contract.ts). */
export const collectorConfigSchema = withKafkaConfig(baseConfigSchema.extend(internalAuthConfigSchema.shape).extend({
  OPS_PORT: port.default(SERVICE_PORTS.collector.ops),
  HTTP_HOST: z.string().default('127.0.0.1'),
  HTTP_PORT: port.default(SERVICE_PORTS.collector.http),
  GRPC_HOST: z.string().default('127.0.0.1'),
  GRPC_PORT: port.default(SERVICE_PORTS.collector.grpc),
  KAFKA_CLIENT_ID: z.string().default('polaris-collector'),
  EVENTS_TOPIC: z.string().default(EVENTS_TOPIC),
  IDENTITY_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['rating-worker'].grpc}`),
  /** How long a request waits for the broker's ack before answering 503. */
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** Micro-batching: requests arriving within this window share one produce request. */
  PUBLISH_LINGER_MS: z.coerce.number().int().min(0).default(5),
  PUBLISH_MAX_BATCH: z.coerce.number().int().positive().default(1_000),
  /** Events waiting for the broker beyond this are refused with 503 overloaded (memory bound in an outage). */
  PUBLISH_MAX_QUEUED: z.coerce.number().int().positive().default(50_000),
  /** A request whose headers and body have not all arrived by then is answered 408 and its connection closed. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** The same for the headers alone (at most HTTP_REQUEST_TIMEOUT_MS). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  MAX_EVENTS_PER_REQUEST: z.coerce.number().int().positive().default(1_000),
  /**
   * A request's events as encoded for the broker, at most (else 413 encoded_too_large). Counted
   * after encoding because re-serialized numbers grow: 1 MiB of `1e20` values encoded to 4.6 MB.
   */
  MAX_ENCODED_BYTES_PER_REQUEST: z.coerce.number().int().positive().default(2 * 1024 * 1024),
  /**
   * The most encoded bytes one produce request carries; keep it at or under the topic's
   * max.message.bytes (the broker's message.max.bytes, 1,048,588 by default). One event larger
   * than this alone is refused with 413 event_too_large.
   */
  PUBLISH_MAX_BATCH_BYTES: z.coerce.number().int().positive().default(1_000_000),
  /** A validated key is trusted this long without asking Identity again (revocation delay). */
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
}));

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

export const loadCollectorConfig = (env?: Record<string, string | undefined>): CollectorConfig => loadConfig(collectorConfigSchema, env);
