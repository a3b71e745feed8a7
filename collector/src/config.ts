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
  /**
   * Codec of the record batches sent to the broker: none, or gzip where broker disk and cross-zone
   * traffic cost more than collector CPU (event-publisher.ts has the measurements). Only codecs
   * every kafkajs consumer decodes without a plug-in: the sink-worker reads what this writes.
   */
  PUBLISH_COMPRESSION: z.enum(['none', 'gzip']).default('none'),
  /** A validated key is trusted this long without asking Identity again (revocation delay; also how soon a new org limit applies). */
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  /**
   * An event whose `time` is older than this is refused. Keep it at or under the rating-worker's
   * LATE_USAGE_LOOKBACK_DAYS (35): an older event would be stored but never billed.
   */
  EVENT_MAX_AGE_DAYS: z.coerce.number().int().positive().default(35),
  /** An event dated further ahead than this is refused (a client's clock bug, not usage). */
  EVENT_MAX_FUTURE_HOURS: z.coerce.number().int().positive().default(24),
  /** Where the per-organization event counts of the rate limits live (shared by every replica). */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL').default('redis://127.0.0.1:56379'),
  /**
   * The default limit of an organization without its own (`polaris org limits`): events per second
   * on average; 0 = none. A third of what one collector replica publishes on 2 cores
   * (bench:ingest), so one organization cannot take a replica to itself.
   */
  RATE_LIMIT_EVENTS_PER_SECOND: z.coerce.number().int().min(0).default(5_000),
  /** The default limit's burst: the most events in any one second (at least the rate). */
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(20_000),
  /** While Redis is unreachable, events pass uncounted for this long, then get 503 until it is back. */
  RATE_LIMIT_REDIS_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
}).superRefine((config, ctx) => {
  if (config.RATE_LIMIT_EVENTS_PER_SECOND > 0 && config.RATE_LIMIT_BURST < config.RATE_LIMIT_EVENTS_PER_SECOND) {
    ctx.addIssue({
      code: 'custom',
      path: ['RATE_LIMIT_BURST'],
      message: `must be at least RATE_LIMIT_EVENTS_PER_SECOND (${config.RATE_LIMIT_EVENTS_PER_SECOND}): it is the most events in one second`,
    });
  }
}));

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;

export const loadCollectorConfig = (env?: Record<string, string | undefined>): CollectorConfig => loadConfig(collectorConfigSchema, env);
