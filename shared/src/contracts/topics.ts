import { EVENTS_DLQ_TOPIC, EVENTS_TOPIC } from './events-topic';

export interface TopicSpec {
  topic: string;
  partitions: number;
}

/**
 * The most sink consumers that can share the work (k8s/deploy-contract.ts holds the HPA to it).
 * Adding partitions to a live topic remaps keys (docs/ARCHITECTURE.md, Partitioning).
 */
export const EVENTS_TOPIC_PARTITIONS = 6;

/** Every topic Polaris uses, as `polaris migrate` creates it. */
export const TOPICS: readonly TopicSpec[] = [
  { topic: EVENTS_TOPIC, partitions: EVENTS_TOPIC_PARTITIONS },
  { topic: EVENTS_DLQ_TOPIC, partitions: 6 },
];
