import { z } from 'zod';
import { clickhouseConfigSchema } from '@polaris/clickhouse';
import { baseConfigSchema, brokerList, loadConfig } from '@polaris/shared/config';
import { EVENTS_DLQ_TOPIC, EVENTS_TOPIC, SERVICE_PORTS } from '@polaris/shared/contracts';

const port = z.coerce.number().int().min(0).max(65535);

export const sinkWorkerConfigSchema = baseConfigSchema
  .extend({
    OPS_PORT: port.default(SERVICE_PORTS['sink-worker'].ops),
    GRPC_HOST: z.string().default('127.0.0.1'),
    GRPC_PORT: port.default(SERVICE_PORTS['sink-worker'].grpc),
    KAFKA_BROKERS: brokerList.default(['127.0.0.1:59092']),
    KAFKA_CLIENT_ID: z.string().default('polaris-sink-worker'),
    KAFKA_GROUP_ID: z.string().default('polaris-sink'),
    EVENTS_TOPIC: z.string().default(EVENTS_TOPIC),
    EVENTS_DLQ_TOPIC: z.string().default(EVENTS_DLQ_TOPIC),
    /**
     * A partition with messages pending and no commit for longer than this makes the consumer
     * stalled: /readyz fails naming the partitions, `sink_consumer_stalled` is 1.
     */
    SINK_STALL_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
    /** Which roles this process plays; k8s runs the consumer and the query API as separate Deployments. */
    CAPABILITIES: z
      .string()
      .default('sink,usage-api')
      .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
      .pipe(z.array(z.enum(['sink', 'usage-api'])).min(1)),
  })
  .extend(clickhouseConfigSchema.shape);

export type SinkWorkerConfig = z.infer<typeof sinkWorkerConfigSchema>;

export const loadSinkWorkerConfig = (env?: Record<string, string | undefined>): SinkWorkerConfig => loadConfig(sinkWorkerConfigSchema, env);
