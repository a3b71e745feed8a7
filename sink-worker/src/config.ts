import { z } from 'zod';
import { clickhouseConfigSchema } from '@polaris/clickhouse';
import { baseConfigSchema, loadConfig } from '@polaris/shared/config';
import { withKafkaConfig } from '@polaris/shared/kafka';
import { EVENTS_DLQ_TOPIC, EVENTS_TOPIC, SERVICE_PORTS } from '@polaris/shared/contracts';
import { internalAuthConfigSchema } from '@polaris/shared/grpc';
import { dedupConfigSchema } from './events/dedup-window';
import { flushConfigSchema } from './events/flush-buffer';

const port = z.coerce.number().int().min(0).max(65535);

export const sinkWorkerConfigSchema = withKafkaConfig(
  baseConfigSchema
    .extend(internalAuthConfigSchema.shape)
    .extend({
      OPS_PORT: port.default(SERVICE_PORTS['sink-worker'].ops),
      GRPC_HOST: z.string().default('127.0.0.1'),
      GRPC_PORT: port.default(SERVICE_PORTS['sink-worker'].grpc),
      KAFKA_CLIENT_ID: z.string().default('polaris-sink-worker'),
      KAFKA_GROUP_ID: z.string().default('polaris-sink'),
      EVENTS_TOPIC: z.string().default(EVENTS_TOPIC),
      EVENTS_DLQ_TOPIC: z.string().default(EVENTS_DLQ_TOPIC),
      /**
       * A partition with messages pending and no commit for longer than this makes the consumer
       * stalled: /readyz fails naming the partitions, `sink_consumer_stalled` is 1.
       */
      SINK_STALL_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
      /**
       * The consumer group session: a sink killed without leaving (SIGKILL, OOM, a lost node) holds
       * its partitions this long before the others take them over. Kafka's broker bounds it
       * (group.min/max.session.timeout.ms, 6 s to 30 min by default). Keep it above the sink's
       * longest wait between store retries (10 s): below that, a sink riding out a ClickHouse outage
       * loses its partitions and rejoins (harmless, the batch replays, but a rebalance each time).
       */
      KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(1_800_000).default(30_000),
      /** How often the consumer lag (sink_consumer_lag) is read from the broker. */
      SINK_LAG_POLL_INTERVAL_MS: z.coerce.number().int().min(1_000).default(15_000),
      /** Which roles this process plays; k8s runs the consumer, the backfills and the query API as separate Deployments. */
      CAPABILITIES: z
        .string()
        .default('sink,backfill,usage-api')
        .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
        .pipe(z.array(z.enum(['sink', 'backfill', 'usage-api'])).min(1)),
      /** The rating-worker's gRPC address: the meter catalog (MeterCatalog) and meter versions (Meters). */
      METERS_GRPC_ADDR: z.string().default(`127.0.0.1:${SERVICE_PORTS['rating-worker'].grpc}`),
      /** How often the sink syncs the meter catalog in the background: a new meter counts live within this. */
      METER_CATALOG_SYNC_INTERVAL_MS: z.coerce.number().int().positive().default(5_000),
      /**
       * The sink stops stamping rows with a catalog lease this long before it expires. Must be
       * below the rating-worker's METER_LEASE_TTL_MS. While the sink lives, an insert in flight
       * keeps its revision leased whatever its duration (holding_revision); this margin plus the
       * rating-worker's METER_LEASE_GRACE_MS is what covers an insert left running by a sink that
       * died (docs/meters.md).
       */
      METER_LEASE_SAFETY_MARGIN_MS: z.coerce.number().int().positive().default(10_000),
      /** Deadline of one call to the rating-worker. */
      METERS_GRPC_DEADLINE_MS: z.coerce.number().int().positive().default(5_000),
      /** Events read, evaluated and written per backfill step. */
      BACKFILL_PAGE_SIZE: z.coerce.number().int().min(100).max(100_000).default(10_000),
      /** How long an idle backfill worker waits before asking for work again. */
      BACKFILL_POLL_INTERVAL_MS: z.coerce.number().int().positive().default(2_000),
    })
    .extend(dedupConfigSchema.shape)
    .extend(flushConfigSchema.shape)
    .extend(clickhouseConfigSchema.shape),
);

export type SinkWorkerConfig = z.infer<typeof sinkWorkerConfigSchema>;

export const loadSinkWorkerConfig = (env?: Record<string, string | undefined>): SinkWorkerConfig => loadConfig(sinkWorkerConfigSchema, env);
