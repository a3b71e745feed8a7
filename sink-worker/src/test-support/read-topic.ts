import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { eventually } from '@polaris/shared/testing';

export interface ReadMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Reads a topic from the beginning until `count` messages are in (a group of its own), then stops. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `it-read-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} });
      },
    });
    await eventually(async () => (seen.length >= count ? true : undefined), `${count} message(s) on ${topic} (have ${seen.length})`, timeoutMs);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** A header as a string (kafkajs hands them over as Buffers). */
export const headerText = (headers: IHeaders, name: string): string | undefined => {
  const v = headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v[0] : v)?.toString();
};
