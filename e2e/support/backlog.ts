import { randomUUID } from 'node:crypto';
import { cloudEvent, postEvents } from './http';
import { E2E_PORTS } from './ports';
import { freePort, startPrivate } from './private-services';
import { MAIN_BROKERS } from './topics';

/**
 * Puts `count` events of the key's organization on `topic` the way production does: through a
 * collector of its own (EVENTS_TOPIC = topic), in batches, each answered 202 only once the broker
 * has them. The collector is stopped again (and must exit 0). Returns the event ids, in order.
 */
export async function produceThroughCollector(opts: {
  label: string;
  topic: string;
  apiKey: string;
  count: number;
  brokers?: string[];
  batchSize?: number;
}): Promise<string[]> {
  const httpPort = await freePort();
  const collector = await startPrivate(`${opts.label}-producer`, [
    {
      name: 'collector',
      opsPort: await freePort(),
      env: {
        HTTP_PORT: String(httpPort),
        GRPC_PORT: String(await freePort()),
        KAFKA_BROKERS: (opts.brokers ?? MAIN_BROKERS).join(','),
        EVENTS_TOPIC: opts.topic,
        IDENTITY_GRPC_ADDR: `127.0.0.1:${E2E_PORTS.identityGrpc}`,
      },
    },
  ]);
  const ids: string[] = [];
  try {
    const batchSize = opts.batchSize ?? 500;
    for (let sent = 0; sent < opts.count; sent += batchSize) {
      const batch = Array.from({ length: Math.min(batchSize, opts.count - sent) }, () => cloudEvent({ id: `bk-${randomUUID()}`, source: `e2e-${opts.label}` }));
      const res = await postEvents(opts.apiKey, batch, 'application/cloudevents-batch+json', `http://127.0.0.1:${httpPort}`);
      if (res.status !== 202) throw new Error(`the backlog collector answered ${res.status}: ${JSON.stringify(res.body)}`);
      ids.push(...batch.map((e) => e.id));
    }
  } finally {
    await collector.stop();
  }
  return ids;
}
