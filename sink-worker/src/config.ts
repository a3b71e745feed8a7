import { z } from 'zod';
import { baseConfigSchema, brokerList, clickhouseConfigSchema, loadConfig, EVENTS_DLQ_TOPIC, EVENTS_TOPIC } from '@polaris/shared';

const port = z.coerce.number().int().min(0).max(65535);

const schema = baseConfigSchema
  .extend({
    OPS_PORT: port.default(9092),
    GRPC_HOST: z.string().default('0.0.0.0'),
    GRPC_PORT: port.default(50052),
    KAFKA_BROKERS: brokerList.default(['127.0.0.1:59092']),
    KAFKA_CLIENT_ID: z.string().default('polaris-sink-worker'),
    KAFKA_GROUP_ID: z.string().default('polaris-sink'),
    EVENTS_TOPIC: z.string().default(EVENTS_TOPIC),
    EVENTS_DLQ_TOPIC: z.string().default(EVENTS_DLQ_TOPIC),
    /** Which roles this process plays; k8s runs the consumer and the query API as separate Deployments. */
    CAPABILITIES: z
      .string()
      .default('sink,usage-api')
      .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
      .pipe(z.array(z.enum(['sink', 'usage-api'])).min(1)),
  })
  .extend(clickhouseConfigSchema.shape);

export type SinkWorkerConfig = z.infer<typeof schema>;

export const loadSinkWorkerConfig = (env?: Record<string, string | undefined>): SinkWorkerConfig => loadConfig(schema, env);
